import { STAGED_WIDE_KEYED_COLUMNS } from './dist/lib/db/lake-views.js';
import * as Q from './dist/lib/sql/ingest.js';
const cols = `{${STAGED_WIDE_KEYED_COLUMNS.map((c) => `'${c.name}': '${c.type}'`).join(', ')}}`;
export default [
  ['read widek (quote)', `CREATE TEMP TABLE a AS SELECT * FROM read_csv('/tmp/stg-full/widek-*.csv', columns = ${cols}, header=false, auto_detect=false, delim=',', quote='"', escape='"', nullstr='')`],
  ['read widek noquote', `CREATE TEMP TABLE a2 AS SELECT * FROM read_csv('/tmp/stg-full/widek-*.csv', columns = ${cols}, header=false, auto_detect=false, delim=',', quote='', escape='', nullstr='')`],
  ['copy metrics', Q.COPY_STAGED_METRICS_SQL],
  ['w zstd sorted', `COPY (SELECT *, CAST(time AS DATE) AS date FROM new_metrics ORDER BY gpu_uuid, time) TO '/tmp/o1' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), OVERWRITE_OR_IGNORE)`],
  ['w zstd lvl1 sorted', `COPY (SELECT *, CAST(time AS DATE) AS date FROM new_metrics ORDER BY gpu_uuid, time) TO '/tmp/o6' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (date), OVERWRITE_OR_IGNORE)`],
  ['other load', `CREATE TEMP TABLE o AS SELECT * FROM staged_other`],
  ['other load nolabels', `CREATE TEMP TABLE o2 AS SELECT k.time_ms, s.gpu_uuid, s.host, k.metric, k.value, '{}' AS labels FROM staged_other_keyed k JOIN staged_series s USING (series)`],
  ['w other', `COPY (SELECT *, CAST(make_timestamp(time_ms*1000) AS DATE) AS date FROM o) TO '/tmp/o7' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), OVERWRITE_OR_IGNORE)`],
  ['w other nolabels', `COPY (SELECT *, CAST(make_timestamp(time_ms*1000) AS DATE) AS date FROM o2) TO '/tmp/o8' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), OVERWRITE_OR_IGNORE)`],
];
