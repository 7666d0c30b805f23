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
