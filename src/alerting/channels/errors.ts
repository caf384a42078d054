/** Delivery to one channel failed; `reason` says why and never contains the channel's secrets. */
export class AlertDeliveryError extends Error {
  constructor(
    readonly channel: string,
    readonly reason: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(`alert channel "${channel}": ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AlertDeliveryError';
    this.status = options?.status;
  }

  /** The HTTP status, when the endpoint answered. */
  readonly status: number | undefined;
}

/** The alert channel configuration is invalid; `field` names the offending field (e.g. `channels[1].url`). */
export class AlertConfigError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'AlertConfigError';
  }
}
