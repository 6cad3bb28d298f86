# firegate의 페이지와 메일 (한국어). 키와 변수는 en.ftl과 같아요.
# 문체: 페이지와 메일 모두 해요체, 버튼은 명사형이나 "~하기".

## Every page

page-sending = 보내는 중…
page-error-network = 서버에 연결하지 못했어요. 인터넷 연결을 확인한 뒤 다시 시도해 주세요.
page-error-unexpected = 문제가 생겼어요(상태 코드 { $status }). 잠시 후 다시 시도해 주세요.
page-error-unavailable = 지금은 요청이 많아 처리하지 못했어요. 잠시 후 다시 시도해 주세요.
page-error-rate-limited = 이 네트워크에서 시도한 횟수가 너무 많아요. 잠시 기다렸다가 다시 시도해 주세요.
page-error-invalid-token = 링크가 잘못됐거나, 이미 사용했거나, 만료됐어요. 새 링크를 다시 요청해 주세요.

## The password-reset page (GET /password-reset/)

reset-page-title = 비밀번호 재설정 · { $product }
reset-heading = 비밀번호 재설정
reset-request-intro = 계정에 등록한 이메일 주소를 입력하면, 새 비밀번호를 정할 수 있는 링크를 보내 드려요.
reset-email-label = 이메일 주소
reset-request-button = 링크 받기
reset-requested = 이 주소로 가입한 계정이 있다면 비밀번호 재설정 링크를 보냈어요. 메일함을 확인해 주세요.
reset-invalid-email = name@example.com 같은 형식으로 입력해 주세요.
reset-new-password-label = 새 비밀번호
reset-repeat-label = 새 비밀번호 확인
reset-confirm-button = 비밀번호 변경하기
reset-saving = 저장하는 중…
reset-passwords-differ = 두 비밀번호가 서로 달라요.
reset-weak-password = 비밀번호는 { $min_chars }자 이상으로 정해 주세요.
reset-done = 비밀번호를 바꿨어요. 새 비밀번호로 로그인해 주세요.

## The email-verification page (GET /email-verification/)

verify-page-title = 이메일 인증 · { $product }
verify-heading = 이메일 주소 인증
verify-intro = 아래 버튼을 누르면 이 주소가 내 계정의 주소라는 것이 인증돼요.
verify-button = 이메일 인증하기
verify-no-token = 메일로 받은 링크를 열어 주소를 인증해 주세요.
verify-confirming = 인증하는 중…
verify-done = 이메일 주소가 인증됐어요. 이제 로그인할 수 있어요.

## The demo sign-in page (GET /login/ under `dev` or --demo-page)

login-page-title = 로그인 · { $product }
login-heading = 로그인
login-intro = 이 페이지는 POST /login/ 요청을 보내고, 클라이언트가 signInWithCustomToken에 넘길 값을 보여 줘요.
login-login-label = 이메일 또는 아이디
login-password-label = 비밀번호
login-button = 로그인
login-signing-in = 로그인하는 중…
login-signed-in = uid { $uid } 계정으로 로그인했어요.
login-token-times = 토큰은 { $issued }에 발급됐고 { $until }까지 쓸 수 있어요. (signInWithCustomToken에 쓰는 토큰이에요. 이 토큰으로 시작한 Firebase 세션은 더 오래 유지돼요.)
login-invalid-credentials = 아이디 또는 비밀번호가 맞지 않아요.
login-code-intro = 이 계정은 2단계 인증을 써요. 인증 앱에 표시된 코드나 아직 쓰지 않은 복구 코드를 입력해 주세요.
login-code-label = 인증 코드
login-code-button = 확인
login-code-checking = 코드를 확인하는 중…
login-code-invalid = 코드가 맞지 않아요.
login-code-expired = 로그인 시간이 지났거나 틀린 코드를 너무 많이 입력했어요. 처음부터 다시 로그인해 주세요.
mfa-setup-page-title = 2단계 인증 · { $product }
mfa-setup-heading = 인증 앱 추가하기
mfa-setup-intro = 이 페이지는 로그인한 뒤 Auth 에뮬레이터에서 커스텀 토큰을 Firebase ID 토큰으로 바꾸고, POST /mfa/totp/enroll/과 /mfa/totp/confirm/으로 인증 앱을 등록해요.
mfa-setup-start = 로그인하고 시작하기
mfa-setup-scan = 인증 앱으로 QR 코드를 스캔하거나 아래 키를 직접 입력한 다음, 앱에 표시된 코드를 입력해 주세요.
mfa-setup-qr-alt = 인증 앱 키의 QR 코드
mfa-setup-secret = 키:
mfa-setup-confirm = 켜기
mfa-setup-enabled = 인증 앱을 켰어요. 이제 로그인할 때마다 앱의 코드를 물어봐요.
mfa-setup-recovery = 복구 코드예요. 휴대폰을 잃어버렸을 때 코드 하나로 한 번 로그인할 수 있어요. 다시 보여 주지 않으니 지금 적어 두세요.
mfa-setup-has-factor = 이 계정은 이미 2단계 인증을 쓰고 있어요.
mfa-setup-refused = 거부됨:
mfa-setup-no-emulator = 이 페이지는 커스텀 토큰을 ID 토큰으로 바꾸려면 Firebase Auth 에뮬레이터(FIREBASE_AUTH_EMULATOR_HOST)가 필요해요. 앱에서는 Firebase SDK가 이 일을 해요.

## The password-reset mail

reset-mail-subject = [{ $product }] 비밀번호 재설정 안내
reset-mail-intro = { $product } 계정({ $to })의 비밀번호를 재설정해 달라는 요청을 받았어요.
reset-mail-open = 새 비밀번호를 정하려면 { $minutes }분 안에({ $expires }까지) 아래 링크를 열어 주세요.
reset-mail-button = 새 비밀번호 정하기
reset-mail-ignore = 직접 요청하지 않았다면 이 메일은 무시하셔도 돼요. 비밀번호는 그대로예요. 링크는 한 번만 쓸 수 있고, 비밀번호가 바뀌면 바로 쓸 수 없게 돼요.
reset-mail-breached-subject = [{ $product }] 새 비밀번호를 정해 주세요
reset-mail-breached-intro = { $product } 계정({ $to })의 비밀번호가 다른 사이트에서 유출된 비밀번호 목록에 들어 있어요. 이런 비밀번호는 공격자가 가장 먼저 시도하기 때문에, 계정을 지키려고 이 비밀번호로는 더 이상 로그인할 수 없게 했어요.
reset-mail-breached-note = 새 비밀번호를 정하기 전까지는 예전 비밀번호로 로그인할 수 없어요. 링크는 한 번만 쓸 수 있어요. 시간이 지나 링크가 만료되면 다시 로그인을 시도하거나 비밀번호 재설정을 요청해 새 링크를 받으세요.

## The email-verification mail

verify-mail-subject = [{ $product }] 이메일 주소 인증 안내
verify-mail-intro = { $to } 주소가 { $product } 계정의 주소가 맞는지 확인해 주세요.
verify-mail-open = { $minutes }분 안에({ $expires }까지) 아래 링크를 열고, 열린 페이지에서 버튼을 눌러 주세요.
verify-mail-button = 이메일 인증하기
verify-mail-ignore = { $product } 계정을 만든 적이 없다면 이 메일은 무시하셔도 돼요. 링크를 열지 않으면 아무 일도 일어나지 않아요.

## The second-factor mail (a factor added or removed, a recovery code used)
factor-mail-subject = [{ $product }] 2단계 인증 변경 안내
factor-mail-account = { $product } 계정({ $to })에 다음 변경이 있었어요.
factor-mail-advice = 직접 하신 일이라면 따로 하실 일은 없어요. 그렇지 않다면 누군가 비밀번호를 알고 있을 수 있어요. 지금 비밀번호를 재설정하고, 관리자에게 계정의 2단계 인증을 확인해 달라고 요청해 주세요.
factor-event-totp-added = 인증 앱이 2단계 인증 수단으로 추가됐어요.
factor-event-totp-removed = 인증 앱이 2단계 인증 수단에서 삭제됐어요.
factor-event-codes-regenerated = 복구 코드를 새로 만들었어요. 이전 코드는 이제 쓸 수 없어요.
factor-event-code-used = 복구 코드로 로그인했어요.
factor-event-reset = 관리자가 2단계 인증을 해제했어요.
factor-event-passkey-added = 계정에 패스키가 추가됐어요.
factor-event-passkey-removed = 계정에서 패스키가 삭제됐어요.
factor-event-passkey-second-factor-on = 패스키를 2단계 인증 수단으로 쓰도록 설정했어요.
factor-event-passkey-second-factor-off = 패스키를 더 이상 2단계 인증 수단으로 쓰지 않아요.

## Dates and times in mails

datetime = { $year }년 { $month }월 { $day }일 { $period ->
        [am] 오전
       *[pm] 오후
    } { $hour12 }시{ $minute ->
        [0] {""}
       *[other] {" "}{ $minute }분
    } { $zone }
