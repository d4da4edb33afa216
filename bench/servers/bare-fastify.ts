/**
 * The ceiling: Fastify 5 with nothing but one POST route that parses a small JSON body and answers
 * `{ok:true}`. Run as its own process by the benchmark, exactly like the real server, so the two
 * figures differ only by what Meterwatch does per request.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });

app.post('/echo', async (request) => {
  // Touch the parsed body so the JSON parse cannot be skipped.
  return { ok: request.body !== undefined };
});

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: 'bare fastify listening', address })}\n`);

const shutdown = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
