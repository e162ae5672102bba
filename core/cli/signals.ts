/**
 * Resolves on the first SIGINT/SIGTERM; a second one during shutdown exits at once.
 * Commands install it before start-up so a stop during a long model load still drains cleanly.
 */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        process.stderr.write(`clipflow: ${signal} again, exiting without waiting for in-flight requests\n`);
        process.exit(1);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
