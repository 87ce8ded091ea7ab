#!/bin/sh
# The check step of imgsize's GitHub Action (action.yml). A plain script: the action
# passes its inputs as INPUT_* variables (never spliced into the script's text), and it
# runs the same outside GitHub, given those variables and a GITHUB_OUTPUT file.
#
# It runs ci/check.sh and writes the step's outputs: exit-code, passed, failed (the
# number of failed budgets), and the paths of the json, markdown, junit and sarif
# reports. imgsize itself writes the annotations and the step summary when
# GITHUB_ACTIONS=true. The step always succeeds; the action's last step exits with
# exit-code, so that the SARIF upload runs first.
set -u

here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${INPUT_IMAGE:-}" ]; then
  echo "::error title=imgsize::the 'image' input is empty: give an image archive, an OCI layout, a registry reference or docker-daemon:NAME"
  code=2
else
  [ -n "${INPUT_BUDGET:-}" ] && export IMGSIZE_BUDGET="$INPUT_BUDGET"
  export IMGSIZE_DOCKERFILE="${INPUT_DOCKERFILE:-}"
  export IMGSIZE_BASELINE="${INPUT_BASELINE:-}"
  export IMGSIZE_FORMAT="${INPUT_FORMAT:-table}"
  export IMGSIZE_OUT="${INPUT_OUTPUT_DIR:-imgsize-out}"
  [ -n "${INPUT_IMGSIZE_BIN:-}" ] && export IMGSIZE="$INPUT_IMGSIZE_BIN"

  # Each non-blank line of the `limits` input is one --limit; globs stay unexpanded.
  set --
  set -f
  old_ifs=$IFS
  IFS='
'
  for limit in ${INPUT_LIMITS:-}; do
    limit=$(printf '%s' "$limit" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    [ -n "$limit" ] && set -- "$@" --limit "$limit"
  done
  IFS=$old_ifs
  set +f

  "$here/../check.sh" "$INPUT_IMAGE" "$@"
  code=$?
fi

out=${IMGSIZE_OUT:-imgsize-out}
failed=
if [ -f "$out/imgsize.json" ]; then
  failed=$(sed -n 's/^  "failed": \([0-9][0-9]*\),$/\1/p' "$out/imgsize.json" | head -n 1)
fi
passed=false
[ "$code" -eq 0 ] && passed=true

report() {
  if [ -f "$out/$1" ]; then echo "$2=$out/$1"; else echo "$2="; fi
}
{
  echo "exit-code=$code"
  echo "passed=$passed"
  echo "failed=$failed"
  report imgsize.json json
  report imgsize.md markdown
  report imgsize.xml junit
  report imgsize.sarif sarif
} >> "${GITHUB_OUTPUT:-/dev/null}"
exit 0
