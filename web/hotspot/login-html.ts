import Handlebars from 'handlebars';

/**
 * The login.html a MikroTik hotspot serves to a device that is not logged in (it replaces RouterOS' own in the
 * hotspot's html directory): a page that forwards the browser at once to this router's page on our portal,
 * carrying RouterOS' variables in a form (so the browser encodes them, whatever they hold). RouterOS fills in
 * `$(…)` when it serves the file; without JavaScript a button does the same.
 *
 * The portal must be reachable before login: one-click setup puts its host in the hotspot's walled garden (the
 * router's `portal_host`); the payment gateway's hosts must be added there too (README, "Customer portal and
 * hotspot").
 */
const escape = (value: string): string => Handlebars.escapeExpression(value);

/** RouterOS variables the portal reads: the device, where to log it in, where it was going, CHAP, the last error. */
export const ROUTEROS_VARIABLES = ['mac', 'ip', 'link-login-only', 'link-orig', 'chap-id', 'chap-challenge', 'error'] as const;

export function routerLoginPage(portal_origin: string, router_id: string, isp_name: string): string {
  const action = `${portal_origin}/hotspot/${encodeURIComponent(router_id)}`;
  const fields = ROUTEROS_VARIABLES.map((name) => `    <input type="hidden" name="${name}" value="$(${name})">`).join('\n');
  return `<!DOCTYPE html>
<!--
  ${escape(isp_name)} Wi-Fi: the hotspot login page for router ${escape(router_id)}, made by IspBills.
  Upload it to the router as login.html in the hotspot's html directory (Files, or: /tool fetch url="${escape(action)}/login.html" dst-path=hotspot/login.html).
  The portal (${escape(portal_origin)}) must be in the hotspot's walled garden.
-->
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="pragma" content="no-cache">
  <meta http-equiv="expires" content="-1">
  <link rel="icon" href="data:,">
  <title>${escape(isp_name)} Wi-Fi</title>
  <style>body{font-family:system-ui,sans-serif;text-align:center;padding:3em 1em;color:#1e293b}button{font-size:1.1em;padding:.7em 1.6em;border:0;border-radius:8px;background:#1d4ed8;color:#fff}</style>
</head>
<body>
  <p>${escape(isp_name)} Wi-Fi…</p>
  <form name="portal" action="${escape(action)}" method="get">
${fields}
    <noscript><button type="submit">Continue / এগিয়ে যান</button></noscript>
  </form>
  <script>document.portal.submit();</script>
</body>
</html>
`;
}
