/**
 * DuckDB lifecycle: one in-memory instance per command, named queries with bound values, timings
 * logged under DEBUG. File paths cannot be bound in DuckDB's table functions, so they are quoted
 * here and only here (`quotePath`).
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import os from 'node:os';
import { COUNTER_INCREASE_MACRO_SQL } from '../dcgm/counters.js';

export type Params = Record<string, DuckDBValue> | DuckDBValue[];
export type JsRow = Record<string, unknown>;

const debug = Boolean(process.env.DEBUG && /gpuhealth|\*/.test(process.env.DEBUG));

export class Db {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    /** False for a fork: closing it closes only its connection. */
    private readonly ownsInstance = true,
  ) {}

  static async open(opts: { threads?: number; memoryLimit?: string; tempDir?: string } = {}): Promise<Db> {
    const options: Record<string, string> = {
      threads: String(opts.threads ?? Math.max(1, os.availableParallelism())),
    };
    if (opts.memoryLimit) options.memory_limit = opts.memoryLimit;
    if (opts.tempDir) options.temp_directory = opts.tempDir;
    const instance = await DuckDBInstance.create(':memory:', options);
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    // the shared DCGM rules the rollup and features SQL call; not TEMP, so every connection sees them
    await conn.run(COUNTER_INCREASE_MACRO_SQL);
    return new Db(instance, conn);
  }

  /** Runs a named statement; returns nothing. */
  async exec(name: string, sql: string, params?: Params): Promise<void> {
    const t = Date.now();
    await this.conn.run(sql, params);
    if (debug) process.stderr.write(`[db] ${name} ${Date.now() - t} ms\n`);
  }

  /** Runs a named query; rows as plain JS objects (BIGINT → number, timestamps → Date). */
  async query<T extends JsRow = JsRow>(name: string, sql: string, params?: Params): Promise<T[]> {
    const t = Date.now();
    const reader = await this.conn.runAndReadAll(sql, params);
    const rows = reader.getRowObjectsJS().map((r) => normalizeRow(r)) as T[];
    if (debug) process.stderr.write(`[db] ${name} ${Date.now() - t} ms, ${rows.length} rows\n`);
    return rows;
  }

  /** Another connection to the same database, for work that runs beside this one's (closed by the caller). */
  async connectAnother(): Promise<DuckDBConnection> {
    const conn = await this.instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return conn;
  }

  /**
   * Another connection to the same database as a Db, for statements that run at the same time as
   * this one's (DuckDB runs each connection's query on its own). It sees the database's tables, not
   * this connection's TEMP tables and views. Close it before this one.
   */
  async fork(): Promise<Db> {
    return new Db(this.instance, await this.connectAnother(), false);
  }

  close(): void {
    try {
      this.conn.closeSync();
    } finally {
      if (this.ownsInstance) this.instance.closeSync();
    }
  }
}

function normalizeRow(r: Record<string, unknown>): JsRow {
  const out: JsRow = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}

/** A file path as a SQL string literal, for table functions and COPY targets. */
export function quotePath(p: string): string {
  return `'${p.replace(/'/g, "''")}'`;
}

/** Runs `fn` with an open Db and always closes it. */
export async function withDb<T>(fn: (db: Db) => Promise<T>, opts?: Parameters<typeof Db.open>[0]): Promise<T> {
  const db = await Db.open(opts);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
