/**
 * A small Prometheus registry: counters, gauges and histograms with fixed label sets, rendered in the text
 * exposition format for `GET /metrics`. No allocation on the hot path beyond a map lookup.
 */
type Labels = Record<string, string>;

function key(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return `{${parts.join(',')}}`;
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract render(): string[];
}

/** A number per label set: the storage shared by counters and gauges. */
abstract class LabeledValues extends Metric {
  readonly #values = new Map<string, number>();
  protected addTo(labels: Labels | undefined, by: number): void {
    const k = key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  protected setTo(labels: Labels | undefined, value: number): void {
    this.#values.set(key(labels), value);
  }
  get(labels?: Labels): number {
    return this.#values.get(key(labels)) ?? 0;
  }
  render(): string[] {
    return [...this.#values].map(([k, v]) => `${this.name}${k} ${v}`);
  }
}

export class Counter extends LabeledValues {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels?: Labels, by = 1): void {
    this.addTo(labels, by);
  }
}

export class Gauge extends LabeledValues {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels?: Labels): void {
    this.setTo(labels, value);
  }
  add(by: number, labels?: Labels): void {
    this.addTo(labels, by);
  }
}

export class Histogram extends Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
    this.#counts = new Array<number>(buckets.length).fill(0);
  }
  observe(value: number): void {
    this.#sum += value;
    this.#count += 1;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) this.#counts[i] = (this.#counts[i] as number) + 1;
    }
  }
  get count(): number {
    return this.#count;
  }
  /** Observations over `bound`, one of the buckets' upper bounds. */
  countOver(bound: number): number {
    const i = this.buckets.indexOf(bound);
    if (i === -1) throw new RangeError(`${bound} is not a bucket of ${this.name}`);
    return this.#count - (this.#counts[i] as number);
  }
  render(): string[] {
    const lines = this.buckets.map((b, i) => `${this.name}_bucket{le="${b}"} ${this.#counts[i]}`);
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`, `${this.name}_sum ${this.#sum}`);
    lines.push(`${this.name}_count ${this.#count}`);
    return lines;
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];
  readonly #collectors: (() => void)[] = [];
  /** Runs `collect` before each render: for figures kept elsewhere (an engine's counters), read when scraped. */
  collect(collect: () => void): void {
    this.#collectors.push(collect);
  }
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }
  /** Prometheus text exposition format. */
  render(): string {
    for (const collect of this.#collectors) collect();
    const out: string[] = [];
    for (const m of this.#metrics)
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.kind}`, ...m.render());
    return out.join('\n') + '\n';
  }
  #add<M extends Metric>(m: M): M {
    this.#metrics.push(m);
    return m;
  }
}

/** The metrics a Switchboard server exposes. */
export function createServerMetrics(registry = new Registry()) {
  return {
    registry,
    callsActive: registry.gauge('switchboard_calls_active', 'Calls with a live media stream'),
    callsTotal: registry.counter('switchboard_calls_total', 'Media streams started, by outcome'),
    mediaIn: registry.counter('switchboard_media_frames_in_total', 'Inbound media frames'),
    mediaOut: registry.counter('switchboard_media_frames_out_total', 'Outbound media frames'),
    protocolErrors: registry.counter(
      'switchboard_protocol_errors_total',
      'Rejected inbound messages, by code',
    ),
    httpRequests: registry.counter('switchboard_http_requests_total', 'HTTP requests, by route and status'),
    actorRestarts: registry.counter(
      'switchboard_actor_restarts_total',
      'Call actors restarted by their supervisor',
    ),
    callsResumed: registry.counter(
      'switchboard_calls_resumed_total',
      'Calls taken up from their journal on a new stream (after a crash, a drain or a dropped stream)',
    ),
    firstMediaMs: registry.histogram(
      'switchboard_first_media_ms',
      'From the stream start to the first agent audio frame sent, in ms',
      [5, 10, 25, 50, 100, 250, 500, 1000, 2500],
    ),
    turnLatencyMs: registry.histogram(
      'switchboard_turn_latency_ms',
      "From the end of a caller's spoken turn being decided to the agent's next audio frame sent, in ms",
      [5, 10, 25, 50, 100, 250, 500, 1000, 2500],
    ),
    bargeIns: registry.counter('switchboard_barge_ins_total', 'Prompts cut short by the caller speaking'),
    shadowTurns: registry.counter(
      'switchboard_nlu_shadow_turns_total',
      'Turns the shadow model understood beside the live one, by outcome (agree, disagree; failed, busy: it gave no answer)',
    ),
    vadChunksDropped: registry.gauge(
      'switchboard_vad_chunks_dropped',
      'Voice activity chunks dropped because a call fell behind, since start',
    ),
    sttFramesDropped: registry.gauge(
      'switchboard_stt_frames_dropped',
      'Audio frames dropped because a speech decoder fell behind, since start',
    ),
    ttsRequestsShed: registry.gauge(
      'switchboard_tts_requests_shed',
      'Syntheses refused because the TTS engine was behind, since start, by reason (queue_full, waited_too_long)',
    ),
    outboundFramesLate: registry.counter(
      'switchboard_outbound_frames_late_total',
      'Agent audio frames sent more than 20 ms after they were due',
    ),
    callsRefused: registry.counter(
      'switchboard_calls_refused_total',
      'New calls turned away by admission control, by reason (max_calls, loop_delay, frames_late, audio_dropped)',
    ),
    admissionSaturated: registry.gauge(
      'switchboard_admission_saturated',
      '1 while this process is saturated and refuses new calls, else 0',
    ),
    edgeRefusals: registry.counter(
      'switchboard_edge_refusals_total',
      'Connections and requests refused at the edge, by code (HTTP_TOO_MANY_CONNECTIONS, HTTP_RATE_LIMITED, HTTP_SERVER_FULL)',
    ),
    connectionsOpen: registry.gauge('switchboard_connections_open', 'Open connections, HTTP and websocket'),
    eventLoopDelayMs: registry.gauge(
      'switchboard_event_loop_delay_p99_ms',
      "The event loop's p99 delay over the last second, in ms",
    ),
  };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;
