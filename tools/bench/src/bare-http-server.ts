import http from 'node:http';

/**
 * The ceiling for ingress: a bare node:http server that answers every POST with the JSON
 * ingress sends (reading the body first, as ingress must), and does nothing else. Run as its
 * own process by the bench; prints its port on stdout.
 */
const server = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const body = Buffer.from(JSON.stringify({ code: '10000', message: '', serviceTime: Date.now() }), 'utf8');
    response.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'content-length': body.length });
    response.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
