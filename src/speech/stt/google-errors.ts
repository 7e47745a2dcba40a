/** How gRPC failures of a Google recognition stream map onto retries and SwitchboardErrors. */
import { SwitchboardError } from '../../errors.ts';
import { grpcCodeOf, RETRYABLE_GRPC_CODES } from '../google.ts';

/** OUT_OF_RANGE is how Google ends a stream past its duration limit: a new stream (counted as a retry) fixes it. */
const OUT_OF_RANGE = 11;

/** A failure worth a new gRPC stream (when retries are left): a retryable code, or Google's duration limit. */
export function isTransient(code: number | undefined): boolean {
  return code !== undefined && (RETRYABLE_GRPC_CODES.has(code) || code === OUT_OF_RANGE);
}

/** The STT_FAILED error a stream ends with; `retryable` tells the caller whether another engine call may help. */
export function sttFailure(err: unknown, detail: string, droppedFrames: number): SwitchboardError {
  const grpcCode = grpcCodeOf(err);
  const retryable = grpcCode !== undefined && RETRYABLE_GRPC_CODES.has(grpcCode);
  return new SwitchboardError('STT_FAILED', detail, { grpcCode, droppedFrames }, { cause: err, retryable });
}

/** A failure to get the client, as the stream reports it. */
export function clientFailure(err: unknown): SwitchboardError {
  return err instanceof SwitchboardError
    ? err
    : new SwitchboardError('STT_UNAVAILABLE', 'google speech client failed', {}, { cause: err });
}
