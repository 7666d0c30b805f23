// Starts kinesalite on 127.0.0.1 (its CLI binds every interface). Prints "listening <port>" when ready.
const path = require('path');
const kinesalite = require(path.join(process.cwd(), 'node_modules', 'kinesalite'));
const port = parseInt(process.argv[2] || '0', 10);
const server = kinesalite({createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50, shardLimit: 1000});
server.listen(port, '127.0.0.1', (err) => {
  if (err) { console.error(String(err)); process.exit(1); }
  console.log('listening ' + server.address().port);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
// kinesalite throws a request's 'error' event (index.js: req.on('error', function(err) { throw err })), so a
// client that goes away in the middle of a request, as a stopped Spark query's reader does, killed the whole
// server, and the next query found no Kinesis (seen in `make bench`, 2026-12-01). That request is gone either
// way: log it and serve the others. Any other uncaught error still ends the process, as by default.
process.on('uncaughtException', (err) => {
  if (err && err.code === 'ECONNRESET') {
    console.error('a client aborted a request: ' + String(err));
    return;
  }
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
