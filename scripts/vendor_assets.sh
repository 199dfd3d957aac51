#!/bin/sh
# make assets: the web app's front-end packages from the npm registry (versions pinned in
# web/package.json and web/package-lock.json), copied where the app serves them. The copies
# are committed, so `make run` and `make test` need no node.
set -eu
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund
mkdir -p static/vendor/tabler tests/vendor
# Without their sourceMappingURL comments: the maps are not shipped, and the production
# static storage would look for them.
sed '/sourceMappingURL=/d' node_modules/@tabler/core/dist/css/tabler.min.css > static/vendor/tabler/tabler.min.css
sed '/sourceMappingURL=/d' node_modules/@tabler/core/dist/js/tabler.min.js > static/vendor/tabler/tabler.min.js
# The package ships no LICENSE file; its package.json says MIT (and so does the CSS header).
node -p '`@tabler/core ${require("@tabler/core/package.json").version}: ${require("@tabler/core/package.json").license} licence, https://github.com/tabler/tabler`' > static/vendor/tabler/NOTICE
cp node_modules/axe-core/axe.min.js tests/vendor/axe.min.js
cp node_modules/axe-core/LICENSE tests/vendor/axe-core-LICENSE
echo "vendored @tabler/core $(node -p 'require("@tabler/core/package.json").version') and axe-core $(node -p 'require("axe-core/package.json").version')"
