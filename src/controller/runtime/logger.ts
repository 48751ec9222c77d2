import { pino } from 'pino';

/**
 * JSON logs. Values are never put into log objects in the first place; redact is the second line of
 * defence for anything that looks like a credential.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream) {
  const options: pino.LoggerOptions = {
    level,
    base: { component: 'dbwatch' },
    redact: { paths: ['password', '*.password', '*.*.password', 'data', '*.data', 'url', '*.url'], censor: '***' },
  };
  return destination ? pino(options, destination) : pino(options);
}
