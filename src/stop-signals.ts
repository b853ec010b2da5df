// Imported first by the entry point, before any command loads its modules. A container's process
// is PID 1 of its namespace, and PID 1 does not die of a signal it has no handler for. Node
// itself catches SIGTERM and SIGINT from its first moment and, while no JavaScript listens,
// raises them again with the default action, which PID 1 ignores: a pod deleted while its
// process still starts would go on running until the kubelet's SIGKILL, a whole grace period
// (30 s by default) later. So until a command listens itself, a stop signal ends the process
// here, with the status the default action gives (128 + the signal's number). Once a command
// listens, this listener stands aside; it acts again only when the command has stopped listening,
// as a second signal to a process that is already shutting down should.
const STATUS = { SIGTERM: 128 + 15, SIGINT: 128 + 2 } as const;

function stopNow(signal: keyof typeof STATUS): void {
  if (process.listenerCount(signal) > 1) return;
  process.exit(STATUS[signal]);
}

process.on('SIGTERM', stopNow);
process.on('SIGINT', stopNow);
