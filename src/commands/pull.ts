import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../lib/cli/output.js';
import { BASIC_AUTH_ENV } from '../lib/pull/client.js';
import { DEFAULT_STEP, pullRange, pullStep, pullTimeout, requestHeaders, serverUrl } from '../lib/pull/options.js';
import { pull, type PullOptions } from '../lib/pull/pull.js';
import { parseMatchers } from '../lib/pull/selector.js';

/**
 * For end-to-end tests: GPUHEALTH_TEST_KILL_AFTER_CHUNKS=N kills the process (SIGKILL) after the first
 * commit that brings the chunks recorded to N or more; GPUHEALTH_TEST_PULL_BATCH=N commits every N
 * responses; GPUHEALTH_TEST_KILL_AT=journal|rename|committed kills it at that step of a commit (as in
 * ingest). They interrupt a pull between commits or within one, as a crash or an OOM kill would.
 */
function testHooks(env: NodeJS.ProcessEnv = process.env): Pick<PullOptions, 'afterCommit' | 'piecesPerCommit' | 'commitHooks'> {
  const kill = Number(env['GPUHEALTH_TEST_KILL_AFTER_CHUNKS']);
  const batch = Number(env['GPUHEALTH_TEST_PULL_BATCH']);
  const at = env['GPUHEALTH_TEST_KILL_AT'];
  return {
    ...(kill > 0 ? { afterCommit: (n: number) => void (n >= kill && process.kill(process.pid, 'SIGKILL')) } : {}),
    ...(batch > 0 ? { piecesPerCommit: batch } : {}),
    ...(at ? { commitHooks: { afterStep: (step) => void (step === at && process.kill(process.pid, 'SIGKILL')) } } : {}),
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export default class Pull extends BaseCommand<typeof Pull> {
  static override summary = 'Read DCGM telemetry from Prometheus (or Thanos, VictoriaMetrics, Mimir) into the lake.';
  static override description =
    `Reads the dcgm-exporter families the lake stores through the Prometheus HTTP API (query_range), evaluated every --step over the range, and writes them into the lake through the same path as "gpuhealth ingest" of Prometheus JSON. Time is cut into chunks on a fixed grid (1440 steps: a day at the default 60s step), hosts into batches that keep each response under half a million points, and each batch of responses is one atomic commit together with the record of its chunks in <lake>/_ingest/pulled/.

Resumable: a pull that was interrupted (killed, a network failure) and is run again asks only for the chunks no record covers; so does a daily pull with --since 2d. Chunks ending within 5 minutes of now are written but not recorded, so the next pull reads them again (rows the lake has are dropped).

Busy or unreachable servers (429, 502, 503, 504, refused or dropped connections, timeouts) are asked 3 times with backoff, honouring Retry-After. Credentials: --header 'Authorization: Bearer <token>', or basic auth as user:password in ${BASIC_AUTH_ENV} (or in the URL); they never appear in any output or in the lake.

Exit codes: 0 done (also when nothing was missing), 1 the server or the network failed (what was committed is kept; run it again to resume), 2 bad flags (a URL that is not http(s), --since with --from, --from after --to, a --match that is not label matchers, a --step under 1s).`;

  static override examples = [
    '<%= config.bin %> pull --prometheus http://prometheus:9090',
    '<%= config.bin %> pull --prometheus http://prometheus:9090 --since 30d --step 5m',
    `<%= config.bin %> pull --prometheus https://thanos.example/ --from 2026-03-01 --to 2026-03-08 --match '{cluster="a",Hostname=~"gpu-.*"}'`,
    `<%= config.bin %> pull --prometheus https://mimir.example/prometheus --header 'Authorization: Bearer $TOKEN' --header 'X-Scope-OrgID: gpu'`,
    `${BASIC_AUTH_ENV}=reader:secret <%= config.bin %> pull --prometheus https://prom.example --since 2d --json`,
    '<%= config.bin %> pull --prometheus http://prometheus:9090 --dry-run --json',
  ];

  static override flags = {
    prometheus: Flags.string({
      summary: 'Base URL of the Prometheus HTTP API (the part before /api/v1).',
      description: 'Prometheus, Thanos Query, VictoriaMetrics, Mimir or Cortex, e.g. http://prometheus:9090 or https://mimir.example/prometheus.',
      required: true,
    }),
    since: Flags.string({ summary: 'How far back from --to: 2d, 7d, 30d (default 7d).', exclusive: ['from'] }),
    from: Flags.string({ summary: 'Start: ISO-8601 (UTC unless it has an offset), epoch seconds, or now.', exclusive: ['since'] }),
    to: Flags.string({ summary: 'End (included): ISO-8601, epoch seconds, or now (the default).' }),
    step: Flags.string({ summary: 'Query resolution: one row per GPU per step (default 60s, at least 1s).', default: DEFAULT_STEP }),
    match: Flags.string({
      summary: 'Label matchers added to every query, e.g. \'{cluster="a",Hostname=~"gpu-.*"}\'; repeat to add more (all must hold).',
      multiple: true,
    }),
    header: Flags.string({ summary: "Request header 'Name: value' (Authorization, X-Scope-OrgID); repeatable. Never printed.", multiple: true }),
    timeout: Flags.string({ summary: 'Per-request timeout (default 150s).' }),
    'dry-run': Flags.boolean({ summary: 'List the families, hosts and queries a pull would make; fetch no data, write nothing.' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const progress = this.makeProgress();
    const note = (text: string): void => {
      progress.done();
      this.note(text);
    };
    const s = await pull({
      lake: this.lakeDir,
      server: serverUrl(f.prometheus),
      ...pullRange(f),
      stepMs: pullStep(f.step),
      matchers: (f.match ?? []).flatMap(parseMatchers),
      headers: requestHeaders(f.header ?? []),
      dryRun: f['dry-run'],
      ...(f.timeout ? { timeoutMs: pullTimeout(f.timeout) } : {}),
      progress,
      onNote: note,
      ...testHooks(),
    });
    progress.done();
    if (this.outputFormat === 'json') this.out(renderJson(s));
    else if (s.dry_run) this.out(s.plan!.map((q) => `${q.start} ${q.end} ${q.step_s}s ${q.query}`).join('\n'));
    else if (this.outputFormat === 'csv') {
      const { chunks, families, plan: _plan, ...rest } = s;
      const flat = { ...rest, families: families.join(' '), ...Object.fromEntries(Object.entries(chunks).map(([k, v]) => [`chunks_${k}`, v])) };
      this.out(renderRecord(flat, 'csv'));
    }
    const c = s.chunks;
    const what = `${s.families.length} families, ${s.hosts} hosts, ${s.from.slice(0, 16)}Z → ${s.to.slice(0, 16)}Z every ${s.step_s}s`;
    if (s.dry_run)
      this.note(
        `dry run: ${what}: ${c.total - c.already} of ${c.total} chunks to pull in ${s.queries} queries (first cell's sizing; later ones follow the responses)`,
      );
    else {
      this.note(
        `pulled ${what}: ${c.pulled + c.partial} chunks (${c.already} already in the lake${c.partial ? `, ${c.partial} too recent to mark done` : ''}), ${s.samples} samples → ${s.rows} new rows in ${plural(s.commits, 'commit')}, ${plural(s.queries, 'query', 'queries')} (${plural(s.retries, 'retry', 'retries')}), ${s.elapsed_s.toFixed(1)} s`,
      );
    }
  }
}
