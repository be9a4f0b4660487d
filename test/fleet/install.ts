// Builds envoyproxy/ratelimit at the pinned version into .cache/ratelimit/<version>/ (git-ignored),
// unless it is there already. Go fetches the sources from the Go module proxy.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { RATELIMIT_BINARY, RATELIMIT_MODULE, RATELIMIT_VERSION } from './services.js';

if (existsSync(RATELIMIT_BINARY)) {
  console.log(`ratelimit ${RATELIMIT_VERSION}: ${RATELIMIT_BINARY}`);
} else {
  console.log(`building ratelimit ${RATELIMIT_VERSION} ...`);
  execFileSync('go', ['install', `${RATELIMIT_MODULE}/src/service_cmd@${RATELIMIT_VERSION}`], {
    stdio: 'inherit', env: { ...process.env, GOBIN: dirname(RATELIMIT_BINARY), CGO_ENABLED: '0' },
  });
  console.log(`ratelimit ${RATELIMIT_VERSION}: ${RATELIMIT_BINARY}`);
}
