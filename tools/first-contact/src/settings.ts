import { commonSettings } from '@ceb179/config';

/**
 * The first-contact check reads the customs upload URL the reporter uses (CEB179_CUSTOMS_URL), so
 * it checks exactly what production will call; `--customs-url` overrides it.
 */
export const firstContactSchema = {
  customsUrl: commonSettings.customsUrl,
};
