// Fails every time: after two crashes the circuit breaker blocks the task (unblock it to retry).
console.log('running the integration tests…');
await new Promise((resolve) => setTimeout(resolve, 1500));
console.error('Error: connection refused (the test database is down)');
process.exit(1);
