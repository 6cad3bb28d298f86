<?php
// firegate's legacy verify hook for a PHP application (password_hash / password_verify).
// Replace find_user() with the app's own query. Run alone with PHP's built-in server:
//   FIREGATE_LEGACY_VERIFY_SECRET=... LEGACY_USERS=users.json php -S 127.0.0.1:8004 php_hook.php

// The shared secret, as firegate holds it. Without one (php-fpm hides the environment unless
// clear_env = no) every request is refused: an empty HMAC key would let anyone sign.
function secret(): ?string {
    $secret = getenv('FIREGATE_LEGACY_VERIFY_SECRET');
    return is_string($secret) && strlen($secret) >= 32 ? $secret : null;
}

// The request came from firegate: HMAC-SHA256 of "<timestamp>.<body>", at most 5 minutes old.
function signed(string $body): bool {
    $stamp = $_SERVER['HTTP_X_FIREGATE_TIMESTAMP'] ?? '';
    if (!ctype_digit($stamp) || abs(time() - (int) $stamp) > 300) {
        return false;
    }
    $secret = secret();
    if ($secret === null) {
        return false;
    }
    $mac = hash_hmac('sha256', $stamp . '.' . $body, $secret);
    return hash_equals('v1=' . $mac, $_SERVER['HTTP_X_FIREGATE_SIGNATURE'] ?? '');
}

// Stands for the app's own query, e.g. SELECT id, email, password FROM users WHERE login = ?.
function find_user(string $login): ?array {
    $users = json_decode(file_get_contents(getenv('LEGACY_USERS')), true);
    return $users[$login] ?? null;
}

header('Content-Type: application/json');
// At most 16 KiB is read before the signature check; a longer body is refused.
$body = file_get_contents('php://input', false, null, 0, 16 * 1024 + 1);
if (!is_string($body) || strlen($body) > 16 * 1024) {
    http_response_code(413);
    exit;
}
if ($_SERVER['REQUEST_METHOD'] !== 'POST' || !signed($body)) {
    http_response_code(401);
    exit;
}
$asked = json_decode($body, true);
$user = find_user((string) ($asked['login'] ?? ''));
// An unknown login is checked against a dummy hash, so it takes as long as a wrong password.
$hash = $user['hash'] ?? '$2y$10$' . str_repeat('A', 53);
if (!password_verify((string) ($asked['password'] ?? ''), $hash) || $user === null) {
    echo json_encode(['valid' => false]);
    exit;
}
echo json_encode([
    'valid' => true,
    'uid' => $user['uid'],
    'email' => $user['email'] ?? null,
    'disabled' => ($user['active'] ?? true) === false,
]);
