#!/usr/bin/env bash
# Installs the system tools the project needs when they are missing, with apt:
#   xelatex (texlive-xetex, texlive-fonts-recommended, texlive-plain-generic) and pandoc for nbconvert's PDF
#   route, poppler-utils (pdfinfo, pdftotext, pdfimages, pdftoppm) for the PDF tests, and Debian's chromium with
#   its chromedriver for the browser tests (the formgrader and the feedback page, driven by selenium).
# Uses sudo when not root. Does nothing when every tool is already there.
set -euo pipefail
missing=()
command -v xelatex >/dev/null || missing+=(texlive-xetex texlive-fonts-recommended texlive-plain-generic)
command -v pandoc >/dev/null || missing+=(pandoc)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "error: missing ${missing[*]} and no apt-get here: install a TeX distribution with xelatex, pandoc, poppler, chromium and chromedriver by hand" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing with apt-get: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
