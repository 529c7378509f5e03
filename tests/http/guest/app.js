// A componentize-js fetch-event app for tests/http: StarlingMonkey's `fetch` event serves
// wasi:http/incoming-handler; `fetch()` goes out through wasi:http/outgoing-handler.
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(req) {
  const url = new URL(req.url);
  if (url.pathname === '/hello') {
    return new Response('hello from js', { headers: { 'content-type': 'text/plain' } });
  }
  if (url.pathname === '/echo') {
    const body = await req.text();
    return new Response(req.method === 'HEAD' ? null : body, {
      status: Number(req.headers.get('x-status') || 200),
      headers: { 'x-method': req.method, 'echo-x-foo': req.headers.get('x-foo') || '' },
    });
  }
  if (url.pathname === '/stream') {
    const n = Number(url.searchParams.get('n') || 4);
    let i = 0;
    const text = 'y'.repeat(16384);
    return new Response(new ReadableStream({
      pull(controller) {
        // a fresh array each time: an enqueued chunk's buffer is transferred
        if (i++ < n) controller.enqueue(new TextEncoder().encode(text)); else controller.close();
      },
    }));
  }
  if (url.pathname === '/fetch') {
    const r = await fetch('http://' + req.headers.get('x-upstream') + '/from-js',
                          { method: 'POST', body: 'ping from js' });
    return new Response(await r.text(), { headers: { 'upstream-status': String(r.status) } });
  }
  if (url.pathname === '/trap') {
    throw new Error('the js guest fails on purpose');
  }
  return new Response('no route ' + url.pathname, { status: 404 });
}
