# firegate's pages and mails in English: the reference catalog. Every other language's file
# has the same keys; a key it lacks falls back to the text here (logged once at start-up).
#
# A message is given $product (--product-name) and the variables its text here (or in ko.ftl)
# uses, nothing else: $min_chars (the shortest password), {status}, {uid}, {issued} and
# {until} (filled in by the page's script), $to, $minutes and $expires (the link's expiry,
# from the `datetime` message below). Start-up refuses a message using another, or leaving
# out one it must show (the book's "Languages" page lists them). Keys are grouped by page and
# by mail: a new page or mail adds its own group.

## Every page

page-sending = Sending…
page-error-network = The server could not be reached. Check your connection and try again.
page-error-unexpected = Something went wrong (status { $status }). Please try again later.
page-error-unavailable = The service is busy right now. Please try again in a moment.
page-error-rate-limited = Too many attempts from this network. Please wait a while and try again.
page-error-invalid-token = This link is invalid, used or expired; ask for a new one.

## The password-reset page (GET /password-reset/)

reset-page-title = Reset your password · { $product }
reset-heading = Reset your password
reset-request-intro = Enter the email of your account, and we will send it a link to choose a new password.
reset-email-label = Email
reset-request-button = Send the link
reset-requested = If an account has this address, a link to choose a new password is on its way.
reset-invalid-email = Enter an address like name@example.com.
reset-new-password-label = New password
reset-repeat-label = New password, again
reset-confirm-button = Set the new password
reset-saving = Saving…
reset-passwords-differ = The two passwords differ.
reset-weak-password = The password must be at least { $min_chars } characters long.
reset-done = Your password is changed. Sign in with the new one.

## The email-verification page (GET /email-verification/)

verify-page-title = Confirm your email · { $product }
verify-heading = Confirm your email address
verify-intro = Press the button to confirm that this address belongs to your account.
verify-button = Confirm my address
verify-no-token = Open the link from the mail to confirm your address.
verify-confirming = Confirming…
verify-done = Your address is confirmed. You can sign in now.

## The demo sign-in page (GET /login/ under `dev` or --demo-page)

login-page-title = Sign in · { $product }
login-heading = Sign in
login-intro = This page calls POST /login/ and shows what a client would pass to signInWithCustomToken.
login-login-label = Email or username
login-password-label = Password
login-button = Sign in
login-signing-in = Signing in…
login-signed-in = Signed in as uid { $uid }
login-token-times = Token issued { $issued }, valid until { $until } (for signInWithCustomToken; the Firebase session it starts lasts longer).
login-invalid-credentials = Invalid login or password.
login-code-intro = This account has a second factor: type the code the authenticator app shows, or an unused recovery code.
login-code-label = Code
login-code-button = Verify
login-code-checking = Checking the code…
login-code-invalid = The code does not match.
login-code-expired = This sign-in has expired or had too many wrong codes; sign in again.
mfa-setup-page-title = Second factor · { $product }
mfa-setup-heading = Add an authenticator app
mfa-setup-intro = This page signs in, turns the custom token into a Firebase ID token at the Auth emulator, and enrols an authenticator app through POST /mfa/totp/enroll/ and /mfa/totp/confirm/.
mfa-setup-start = Sign in and start
mfa-setup-scan = Scan the QR code with the authenticator app, or type the key below into it, then enter the code it shows.
mfa-setup-qr-alt = QR code of the authenticator key
mfa-setup-secret = Key:
mfa-setup-confirm = Turn on
mfa-setup-enabled = The authenticator app is on: every sign-in now asks for its code.
mfa-setup-recovery = Recovery codes: each signs in once if the phone is lost. Write them down now; they are not shown again.
mfa-setup-has-factor = This account has a second factor already.
mfa-setup-refused = Refused:
mfa-setup-no-emulator = This page needs the Firebase Auth emulator (FIREBASE_AUTH_EMULATOR_HOST) to turn a custom token into an ID token; an app does this with the Firebase SDK.

## The password-reset mail

reset-mail-subject = Reset your { $product } password
reset-mail-intro = Someone asked to reset the password of your { $product } account ({ $to }).
reset-mail-open = To choose a new password, open this link within { $minutes ->
        [one] one minute
       *[other] { $minutes } minutes
    } (until { $expires }):
reset-mail-button = Choose a new password
reset-mail-ignore = If you did not ask for this, ignore this mail: your password stays as it is. The link works once, and stops working as soon as your password changes.
reset-mail-breached-subject = Choose a new { $product } password
reset-mail-breached-intro = The password of your { $product } account ({ $to }) appears in data breaches of other sites, so attackers try it first. To keep your account safe, it can no longer be used to sign in.
reset-mail-breached-note = Until you choose a new password, signing in with the old one is refused. The link works once; if it expires, sign in again to get a new one, or ask for a reset.

## The email-verification mail

verify-mail-subject = Confirm your { $product } email address
verify-mail-intro = Please confirm that { $to } is the address of your { $product } account.
verify-mail-open = Open this link within { $minutes ->
        [one] one minute
       *[other] { $minutes } minutes
    } (until { $expires }) and press the button on the page:
verify-mail-button = Confirm my address
verify-mail-ignore = If you did not create a { $product } account, ignore this mail: nothing happens without the link.

## The second-factor mail (a factor added or removed, a recovery code used)
factor-mail-subject = Second factor changed on your { $product } account
factor-mail-account = On your { $product } account ({ $to }):
factor-mail-advice = If that was you, there is nothing to do. If it was not, someone may know your password: reset it now, and ask an administrator to check the account's second factor.
factor-event-totp-added = An authenticator app was added as a second factor.
factor-event-totp-removed = The authenticator app was removed as a second factor.
factor-event-codes-regenerated = New recovery codes were made; the old ones no longer work.
factor-event-code-used = A recovery code was used to sign in.
factor-event-reset = An administrator removed the second factor.
factor-event-passkey-added = A passkey was added to the account.
factor-event-passkey-removed = A passkey was removed from the account.
factor-event-passkey-second-factor-on = Passkeys were turned on as a second factor.
factor-event-passkey-second-factor-off = Passkeys were turned off as a second factor.

## Dates and times in mails
# Fluent has no DATETIME function: firegate passes the parts of a time in the reader's time
# zone. $year, $month (1–12), $day, $hour (0–23), $hour12 (1–12), $minute, $minute2 (two
# digits), $period (am or pm) and $zone (the zone's abbreviation, such as UTC or KST).

datetime = { $month ->
        [1] January
        [2] February
        [3] March
        [4] April
        [5] May
        [6] June
        [7] July
        [8] August
        [9] September
        [10] October
        [11] November
       *[12] December
    } { $day }, { $year }, { $hour12 }:{ $minute2 } { $period ->
        [am] AM
       *[pm] PM
    } { $zone }
