// Copies Swagger UI (the npm package swagger-ui-dist, pinned in package.json) into
// web/static/apidocs, where the service serves it for /api/docs: no CDN at run time.
// Run with `npm run build:apidocs` after changing the package's version; commit the result.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, "..", "node_modules", "swagger-ui-dist");
const to = join(here, "static", "apidocs");
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
  copyFileSync(join(from, name), join(to, name));
}
const { version } = JSON.parse(readFileSync(join(from, "package.json"), "utf8"));
writeFileSync(join(to, "VERSION"), `swagger-ui-dist ${version}\n`);
console.log(`copied swagger-ui-dist ${version} into ${to}`);
