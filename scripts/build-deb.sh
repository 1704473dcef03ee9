#!/usr/bin/env bash
# `make package`: builds build/brindle_<version>_amd64.deb from the compiled tree (dist/, made by
# `make build`) and the production npm packages already installed in node_modules/ (better-sqlite3
# is compiled for this machine's Debian nodejs, hence amd64). Prints the package's path last.
#   scripts/build-deb.sh [OUT_DIR]
# The version is package.json's, then +git<commit time, UTC>.<commit>, and .modified<time> if
# the tree differs from the commit: each commit's package sorts after its parent's, so apt
# upgrades from one to the next.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}
pkg=packaging/deb

[[ -f dist/src/cli/main.js ]] || { echo "build-deb: dist/ is missing: run make build first" >&2; exit 1; }
base=$(node -p 'require("./package.json").version')
version=$base
if git rev-parse --git-dir >/dev/null 2>&1; then
  when=$(TZ=UTC git log -1 --date=format-local:%Y%m%d%H%M%S --format=%cd)
  version="$base+git$when.$(git rev-parse --short=7 HEAD)"
  if [[ -n $(git status --porcelain --untracked-files=no) ]]; then version="$version.modified$(date -u +%Y%m%d%H%M%S)"; fi
fi
arch=$(dpkg --print-architecture)
name="brindle_${version}_${arch}"
stage=$(mktemp -d "${TMPDIR:-/tmp}/brindle-deb-XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
lib=$root/usr/lib/brindle

echo "build-deb: staging $name"
mkdir -p "$lib/dist" "$lib/bin" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/brindle" "$root/etc/default" \
  "$root/usr/share/doc/brindle" "$root/DEBIAN"

# The program: the compiled sources without their tests, and the launcher.
(cd dist && find src -name '*.js' ! -name '*.test.js' -exec cp --parents -t "$lib/dist/" {} +)
# The console's page (bundled at build time: index.html, app.css, app.js with its source map).
cp -r dist/src/console/public "$lib/dist/src/console/"
# Test helpers stay behind (they need the development packages).
find "$lib/dist" -type d -name testing -prune -exec rm -rf {} +
cp bin/brindle "$lib/bin/brindle"
cp package.json "$lib/package.json"
ln -s ../lib/brindle/bin/brindle "$root/usr/bin/brindle"

# The production npm packages, as installed here (npm ls lists each one's directory). A nested
# directory comes along with its parent; better-sqlite3 keeps only its compiled addon.
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | sort | awk '
  { for (i = 1; i <= n; i++) if (index($0, kept[i] "/") == 1) next; kept[++n] = $0; print }' |
  while read -r dir; do
    mkdir -p "$lib/$(dirname "$dir")"
    cp -a "$dir" "$lib/$dir"
  done
sqlite=$lib/node_modules/better-sqlite3
addon=build/Release/better_sqlite3.node
[[ -f $sqlite/$addon ]] || { echo "build-deb: $sqlite/$addon is missing (npm ci did not compile better-sqlite3)" >&2; exit 1; }
mv "$sqlite/$addon" "$stage/addon.node"
rm -rf "$sqlite/build" "$sqlite/deps" "$sqlite/src"
mkdir -p "$sqlite/build/Release" && mv "$stage/addon.node" "$sqlite/$addon"
strip --strip-unneeded "$sqlite/$addon"
# Only what runs: each npm package's tests, benchmarks, examples, docs and type declarations
# stay behind, and nothing in node_modules is executable (the program is run by node).
find "$lib/node_modules" -regextype posix-extended -type d \
  -regex '.*/node_modules/(@[^/]+/)?[^/]+/(test|tests|benchmarks|bench|integration|examples|example|docs|\.[^/]+)' -prune -exec rm -rf {} +
find "$lib/node_modules" -type f \( -name '*.md' -o -name '*.ts' -o -name '*.map' -o -name '*.html' -o -name '*.sh' -o -name '.*' \) -delete
find "$lib/node_modules" -type f -exec chmod 0644 {} +

# systemd units, configuration, documentation.
install -m 0644 "$pkg"/brindle-api.service "$pkg"/brindle-node.service "$pkg"/brindle-metadata.service "$pkg"/brindle-console.service "$root/lib/systemd/system/"
install -m 0644 "$pkg"/brindle.yaml "$root/etc/brindle/brindle.yaml"
install -m 0644 "$pkg"/default "$root/etc/default/brindle"
install -m 0644 README.md "$root/usr/share/doc/brindle/README.md"
install -m 0644 "$pkg"/copyright "$root/usr/share/doc/brindle/copyright"
install -D -m 0644 "$pkg"/lintian-overrides "$root/usr/share/lintian/overrides/brindle"
mkdir -p "$root/usr/share/man/man1" && gzip -9n < "$pkg"/brindle.1 > "$root/usr/share/man/man1/brindle.1.gz"
{
  echo "brindle ($version) unstable; urgency=medium"
  echo
  echo "  * Built from $(git rev-parse HEAD 2>/dev/null || echo 'an unversioned tree')."
  echo
  echo " -- Brindle developers <brindle@example.org>  $(date -uR)"
} | gzip -9n > "$root/usr/share/doc/brindle/changelog.gz"

# The control files.
install -m 0755 "$pkg"/postinst "$pkg"/prerm "$pkg"/postrm "$root/DEBIAN/"
printf '/etc/brindle/brindle.yaml\n/etc/default/brindle\n' > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" "$pkg/control.in" > "$root/DEBIAN/control"
find "$root" -path "$root/DEBIAN" -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed "s|$root/||" > "$root/DEBIAN/md5sums"
chmod -R u+rwX,go+rX,go-w "$root"

mkdir -p "$out"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$out/$name.deb" >/dev/null
echo "build-deb: $(du -h "$out/$name.deb" | cut -f1) $out/$name.deb"
echo "$out/$name.deb"
