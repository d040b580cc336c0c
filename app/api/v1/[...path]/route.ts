// /api/v1 is the key service's namespace. Its operations are served by the lean HTTP handler
// in front of Next (lib/server/http-server.ts), not here; anything that reaches Next is unknown.
const notFound = () =>
  Response.json({ error: { code: "not_found", message: "No such key service operation." } }, { status: 404 });

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
