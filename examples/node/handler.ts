// A TypeScript request handler with types, an enum and an interface: Loop Lag runs
// TypeScript directly (no build step), and can measure a function that is not exported.
//
//     looplag run examples/node/handler.ts::handleReport --args "{ kind: ReportKind.Monthly, rows: 1_000_000 }"
//
// Expect: inline, each call blocks the loop for its whole duration (max lag ≈ the sum
// of the 10 calls, ~1 s); in `worker` and `process` modes the loop stays responsive.
// The argument text is evaluated inside this module, so it may use `ReportKind`. Each
// call takes ~50-150 ms on a 2-core CI machine.

enum ReportKind {
  Daily = 'daily',
  Monthly = 'monthly',
}

interface ReportRequest {
  kind: ReportKind;
  rows: number;
}

interface ReportSummary {
  kind: ReportKind;
  rows: number;
  total: number;
  top: string[];
}

/** Builds the rows and aggregates them: the synchronous work a handler often hides. */
function handleReport(request: ReportRequest = { kind: ReportKind.Daily, rows: 1_000_000 }): ReportSummary {
  const totals = new Map<string, number>();
  for (let i = 0; i < request.rows; i++) {
    const customer = `customer-${i % 997}`;
    const amount = ((i * 7919) % 1000) / 10;
    totals.set(customer, (totals.get(customer) ?? 0) + amount);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  const scale = request.kind === ReportKind.Monthly ? 30 : 1;
  return {
    kind: request.kind,
    rows: request.rows,
    total: ranked.reduce((sum, [, amount]) => sum + amount, 0) * scale,
    top: ranked.slice(0, 5).map(([customer]) => customer),
  };
}

export { ReportKind };
