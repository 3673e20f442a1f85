import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AuthMode } from '../http/identity.js';

/**
 * GET /api/docs: Scalar's API reference over /api/openapi.json. Scalar's standalone browser bundle is
 * served by the app itself (GET /api/docs/scalar.js), so the page needs no CDN, no font host and no
 * internet: it works offline and behind internal ingress.
 */

const BUILT_BUNDLE = 'vendor/scalar-api-reference.js';
const PACKAGE_BUNDLE = '@scalar/api-reference/browser/standalone.js';

/**
 * The copy `npm run build` makes in dist/vendor/ (shipped in the image). This code runs from
 * dist/functions/ or dist/functions/chunks/ (the bundled function files, dev/bundle-functions.mjs)
 * or from dist/shared/openapi/ (tsc's output), so the copy is looked for up to three folders up.
 */
function builtBundlePath(): string | undefined {
  for (const up of ['', '../', '../../']) {
    const candidate = fileURLToPath(new URL(`${up}../${BUILT_BUNDLE}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The bundle's path: the copy made by the build, else the npm package (source runs, tests). */
export function referenceBundlePath(): string | undefined {
  const built = builtBundlePath();
  if (built) return built;
  try {
    return createRequire(import.meta.url).resolve(PACKAGE_BUNDLE);
  } catch {
    return undefined;
  }
}

let bundle: string | undefined;

/** The bundle's text, read once per process; undefined when neither copy exists. */
export function referenceBundle(): string | undefined {
  if (bundle === undefined) {
    const path = referenceBundlePath();
    if (path) bundle = readFileSync(path, 'utf8');
  }
  return bundle;
}

/** Example identity the local page fills in for try-it requests (AUTH_MODE=trusted-header). */
export const LOCAL_EXAMPLE_USER = 'alice';

/**
 * Scalar's configuration. Locally (trusted-header) try-it requests send `x-user-id: alice`, which the
 * reader can change; in Azure the page asks for a bearer token. Telemetry, the default web fonts, the
 * AI agent and the request proxy are off: nothing leaves the page's origin.
 */
export function referenceConfiguration(authMode: AuthMode) {
  return {
    url: 'openapi.json',
    withDefaultFonts: false,
    telemetry: false,
    showDeveloperTools: 'never',
    agent: { disabled: true },
    documentDownloadType: 'json',
    hideClientButton: false,
    defaultOpenAllTags: true,
    operationTitleSource: 'summary',
    authentication:
      authMode === 'trusted-header'
        ? { preferredSecurityScheme: 'userIdHeader', securitySchemes: { userIdHeader: { value: LOCAL_EXAMPLE_USER } } }
        : { preferredSecurityScheme: 'bearerAuth' },
  };
}

const pages: Partial<Record<AuthMode, string>> = {};

/** The HTML page, built once per auth mode. */
export function apiReferencePage(authMode: AuthMode): string {
  pages[authMode] ??= renderPage(authMode);
  return pages[authMode];
}

function renderPage(authMode: AuthMode): string {
  // `<` is escaped so no value can close the script element.
  const configuration = JSON.stringify(referenceConfiguration(authMode)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dapr-state-functions API reference</title>
<style>body{margin:0;font-family:system-ui,sans-serif}noscript,#fallback{display:block;padding:2rem}</style>
</head>
<body>
<div id="app"></div>
<noscript>This page needs JavaScript. The machine-readable description is <a href="openapi.json">openapi.json</a>.</noscript>
<script src="docs/scalar.js"></script>
<script>
  (function () {
    var configuration = ${configuration};
    configuration.baseServerURL = window.location.origin;
    if (window.Scalar && window.Scalar.createApiReference) {
      window.Scalar.createApiReference('#app', configuration);
    } else {
      document.getElementById('app').innerHTML =
        '<p id="fallback">The reference viewer is not installed with this build. The API description is <a href="openapi.json">openapi.json</a>.</p>';
    }
  })();
</script>
</body>
</html>
`;
}
