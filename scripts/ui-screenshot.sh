#!/usr/bin/env bash
# Screenshot of the live training page, as a browser shows it, with headless Chromium (Debian package `chromium`).
#
#   scripts/ui-screenshot.sh [URL] [OUT.png] [WIDTH,HEIGHT]
#   scripts/ui-screenshot.sh http://localhost:9000/m3ae ui.png 1500,1900
#
# The UI must already be running (`pretrain ... --ui` or `java -jar target/m3ae-distill.jar ui --run runs/<name>`).
# The page fetches its data with JavaScript after load; --virtual-time-budget lets that run before the capture.
set -euo pipefail

URL="${1:-http://localhost:9000/m3ae}"
OUT="${2:-ui-screenshot.png}"
SIZE="${3:-1500,1900}"
WAIT_MS="${UI_SCREENSHOT_WAIT_MS:-6000}"
# Hard limit: a page that never lets virtual time run out (DL4J's /samediff viewer animates its layout) must not hang.
LIMIT_S="${UI_SCREENSHOT_TIMEOUT_S:-90}"

if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium not found; installing the Debian package" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get install -y chromium >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y chromium >&2; }
fi

# Fail with a clear message rather than screenshot an error page.
if command -v curl >/dev/null 2>&1; then
  if ! curl -fsS -o /dev/null --max-time 5 "$URL"; then
    echo "error: $URL does not answer; start the UI first (see docs/ui.md)" >&2
    exit 1
  fi
fi

PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
OUT_ABS="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

# UI_SCREENSHOT_WAIT_MS=0 captures at the load event (DL4J's /samediff page never lets virtual time run out).
BUDGET_FLAG=""
if [ "$WAIT_MS" != "0" ]; then BUDGET_FLAG="--virtual-time-budget=$WAIT_MS"; fi
rm -f "$OUT_ABS"
rc=0
timeout -k 5 "$LIMIT_S" chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$PROFILE" --hide-scrollbars \
  --window-size="$SIZE" ${BUDGET_FLAG} \
  --screenshot="$OUT_ABS" "$URL" 2> >(grep -vE 'dbus|Fontconfig|sandbox|GPU|gpu|crashpad|ALSA|unexpected operator' >&2 || true) || rc=$?

if [ ! -s "$OUT_ABS" ]; then
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "error: chromium did not finish within ${LIMIT_S} s (UI_SCREENSHOT_TIMEOUT_S); try a smaller UI_SCREENSHOT_WAIT_MS" >&2
  else
    echo "error: chromium wrote no screenshot (exit $rc)" >&2
  fi
  exit 1
fi
echo "$OUT_ABS"
