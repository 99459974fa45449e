"""What the accounts app tells people about (portal.notifications): changes to a person's second
factor and sign-in lockouts. All three are security-critical: e-mailed at once, and nobody can turn
them off, because a change the person did not make is the first sign that someone else got in."""

from portal.notifications import Category, Channel, register_category

MFA_DEVICE_ADDED = register_category(
    Category(
        "accounts.mfa_device_added",
        "Authenticator app added to your account",
        "A new authenticator app was set up for your sign-in (or replaced the one you had).",
        critical=True,
        default=Channel.EMAIL,
    )
)
MFA_DEVICE_REMOVED = register_category(
    Category(
        "accounts.mfa_device_removed",
        "Authenticator app removed from your account",
        "Your authenticator app and backup codes were removed (a reset of your second factor).",
        critical=True,
        default=Channel.EMAIL,
    )
)
SIGN_IN_LOCKED = register_category(
    Category(
        "accounts.sign_in_locked",
        "Sign-in locked after failed attempts",
        "Sign-in to an account (yours, or one of your organization's if you are an account admin) "
        "was blocked after repeated wrong passwords.",
        critical=True,
        default=Channel.EMAIL,
    )
)
