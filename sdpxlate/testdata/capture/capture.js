// capture.js records a real Chromium offer with audio, video and a data
// channel. Run it in a loopback-only network namespace so that no real
// address or mDNS query leaves the machine:
//
//	unshare -n sh -c 'ip link set lo up && exec "$@"' sh node capture.js out.sdp
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const fs = require('fs');

const out = process.argv[2] || 'offer.sdp';
const page = fs.readFileSync(path.join(__dirname, 'offer.html'), 'utf8');
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jinglegate-capture-'));
let chrome;
const srv = http.createServer((req, res) => {
  if (req.method === 'POST') {
    let body = '';
    req.on('data', d => { body += d; });
    req.on('end', () => {
      fs.writeFileSync(out, body);
      res.end('ok');
      chrome.kill();
      srv.close();
      process.exit(body.startsWith('ERROR') ? 1 : 0);
    });
    return;
  }
  res.setHeader('content-type', 'text/html');
  res.end(page);
});
srv.listen(18777, '127.0.0.1', () => {
  chrome = spawn(process.env.CHROMIUM || '/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection', '--user-data-dir=' + profile,
    'http://localhost:18777/',
  ], { stdio: 'ignore' });
});
setTimeout(() => { chrome.kill(); process.exit(1); }, 40000);
