# Sourced by the tools/*.sh scripts: `ensure_packages PKG...` installs the Debian packages that
# are missing (apt-get, as root or through sudo) and does nothing when all are there, so
# repeated runs stay fast. The caller's name prefixes the messages.
ensure_packages() {
  local who missing=() p
  who=$(basename "$0")
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "$who: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "$who: run as root to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
