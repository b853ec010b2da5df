// Sizes libuv's thread pool before anything uses it (it is made on first use, from this variable):
// imported first by every entry point. The pool runs every file operation, fsync included, and an
// fsync holds its thread while the disk writes. A durable materialise flushes files while it
// copies and replays, and with the default 4 threads those flushes stall the copies, reads and
// writes that share the pool: 2 GiB with 500 MB of journal took 3.46 s to durable with 4 threads
// against 3.05 s with 16 (`npm run bench:replicator -- --only recovery`, with and without
// UV_THREADPOOL_SIZE=4, back to back). Threads waiting on the disk use no CPU, so more of them cost
// only their stacks. A value set by the user stands.
process.env['UV_THREADPOOL_SIZE'] ??= '16';
