/** Shapes of Stripe credentials; checked before anything is encrypted and stored. */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/=_-]{8,}$/;
export const STRIPE_KEY_PATTERN = /^(sk|rk)_(live|test)_[A-Za-z0-9]{8,}$/;
export const STRIPE_TEST_KEY_PATTERN = /^(sk|rk)_test_[A-Za-z0-9]{8,}$/;
export const TENANT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
export const MAX_ACTIVE_WEBHOOK_SECRETS = 2;
