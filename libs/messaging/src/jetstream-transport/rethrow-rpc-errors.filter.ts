import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to the JetStream transport as it was thrown. Nest's default RPC filter logs
 * it at error level and replaces it with "Internal server error"; the transport naks and logs the
 * real message itself (a failure here is retried, not final).
 */
@Catch()
export class RethrowRpcErrors implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
