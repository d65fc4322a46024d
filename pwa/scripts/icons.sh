#!/usr/bin/env bash
# Rasterise public/icon.svg and public/icon-maskable.svg into the PNG icons the manifest lists.
# Needs Chromium (apt-get install -y chromium). The PNGs are committed; run this only after
# changing an SVG.
set -euo pipefail
cd "$(dirname "$0")/../public"
CHROMIUM="${CHROMIUM:-chromium}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

render() { # svg size out.png
  cp "$1" "$tmp/"
  printf '<!doctype html><style>html,body{margin:0;background:transparent}img{display:block}</style><img src="%s" width="%s" height="%s">' \
    "$(basename "$1")" "$2" "$2" > "$tmp/page.html"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
    --default-background-color=00000000 --window-size="$2,$2" --screenshot="$tmp/out.png" \
    "file://$tmp/page.html" 2>/dev/null
  mv "$tmp/out.png" "$3"
  echo "$3"
}

render icon.svg 192 icon-192.png
render icon.svg 512 icon-512.png
render icon-maskable.svg 512 icon-maskable-512.png
render icon-maskable.svg 180 apple-touch-icon.png  # iOS ignores transparency: use the full-bleed one
