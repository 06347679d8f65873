import { TRANSPORT_DEFAULTS } from '../transport/transport.constants';

/**
 * The largest value a put accepts, encoded with the value codec: every node
 * must be able to send it to the others in one frame (with its key and the
 * message around it), and every backend accepts the same values.
 * @publicApi
 */
export const MAX_VALUE_BYTES = TRANSPORT_DEFAULTS.maxFrameBytes - 64 * 1024;
