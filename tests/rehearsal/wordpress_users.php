<?php
/*
 * A WordPress site's wp_users table in MariaDB: the table WordPress's installer creates
 * (its schema read from Debian's wordpress package), written on a connection with the
 * sql_mode WordPress sets for itself, holding phpass `$P$` hashes from WordPress's own
 * wp_hash_password (Debian's WordPress 6.1), the `$wp$` bcrypt hashes of WordPress 6.8's
 * wp_hash_password (reproduced below from its source), and the rows real sites have.
 * Exported with `mysql --batch` as the book's importing page shows, and as `select *`; also
 * read directly (`--from mysql://… --preset wordpress`).
 *
 * Usage: php wordpress_users.php DATASET PORT OUT
 */

const WORDPRESS = '/usr/share/wordpress/';
define('ABSPATH', WORDPRESS);
define('WPINC', 'wp-includes');

if (!is_file(ABSPATH . WPINC . '/class-phpass.php')) {
    fwrite(STDERR, "WordPress is missing: install the Debian package wordpress\n");
    exit(1);
}
if (!function_exists('mysqli_connect')) {
    fwrite(STDERR, "PHP's mysqli is missing: install the Debian package php-mysql\n");
    exit(1);
}
// WordPress's own password functions (wp_hash_password, wp_check_password) and the hook
// functions they call; loading pluggable.php only defines functions.
require ABSPATH . WPINC . '/plugin.php';
require ABSPATH . WPINC . '/pluggable.php';
require ABSPATH . WPINC . '/version.php';

[, $dataset, $port, $out] = $argv;
@mkdir($out, 0755, true);

/* WordPress 6.8's wp_hash_password and wp_check_password (wp-includes/pluggable.php), with
 * no filters hooked: bcrypt of base64(HMAC-SHA384(key "wp-sha384", trimmed password)),
 * prefixed with `$wp`. */
function wp68_hash_password($password)
{
    if (strlen($password) > 4096) {
        return '*';
    }
    $password_to_hash = base64_encode(hash_hmac('sha384', trim($password), 'wp-sha384', true));
    return '$wp' . password_hash($password_to_hash, PASSWORD_BCRYPT, []);
}

function wp68_check_password($password, $hash)
{
    if (strlen($hash) <= 32) {
        return hash_equals($hash, md5($password));
    } elseif (strlen($password) > 4096) {
        return false;
    } elseif (str_starts_with($hash, '$wp')) {
        $password_to_verify = base64_encode(hash_hmac('sha384', $password, 'wp-sha384', true));
        return password_verify($password_to_verify, substr($hash, 3));
    } elseif (str_starts_with($hash, '$P$')) {
        require_once ABSPATH . WPINC . '/class-phpass.php';
        return (new PasswordHash(8, true))->CheckPassword($password, $hash);
    }
    return password_verify($password, $hash);
}

$db = mysqli_connect('127.0.0.1', 'root', '', '', (int) $port);
mysqli_query($db, "drop database if exists `$dataset`");
mysqli_query($db, "create database `$dataset`");
mysqli_select_db($db, $dataset);
mysqli_set_charset($db, 'utf8mb4');

// wpdb::set_sql_mode(): WordPress drops the modes it is incompatible with from its session.
$incompatible = ['NO_ZERO_DATE', 'ONLY_FULL_GROUP_BY', 'STRICT_TRANS_TABLES', 'STRICT_ALL_TABLES', 'TRADITIONAL', 'ANSI'];
$modes = explode(',', mysqli_fetch_array(mysqli_query($db, 'SELECT @@SESSION.sql_mode'))[0]);
$modes = array_filter($modes, fn($mode) => !in_array(strtoupper($mode), $incompatible, true));
mysqli_query($db, "SET SESSION sql_mode='" . implode(',', $modes) . "'");

// The users table exactly as wp_get_db_schema() creates it.
$schema = file_get_contents(ABSPATH . 'wp-admin/includes/schema.php');
preg_match('/\$users_single_table = "(CREATE TABLE \$wpdb->users \(.*?\) \$charset_collate;)/s', $schema, $m)
    or die("no users table in schema.php\n");
$create = strtr($m[1], [
    '$wpdb->users' => 'wp_users',
    '$charset_collate' => 'DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci',
]);
mysqli_query($db, rtrim($create, ";")) or die(mysqli_error($db) . "\n");

/* The site's login: wp_authenticate() trims what is typed, then wp_check_password() (6.8's,
 * which reads every hash an older WordPress wrote). Both the login and the email sign in. */
function login($db, $identifier, $typed)
{
    $statement = mysqli_prepare($db, 'select user_pass from wp_users where user_login = ? or user_email = ? limit 1');
    mysqli_stmt_bind_param($statement, 'ss', $identifier, $identifier);
    mysqli_stmt_execute($statement);
    $row = mysqli_fetch_row(mysqli_stmt_get_result($statement));
    $password = trim($typed);
    // wp_authenticate_username_password refuses an empty password before any hash is read.
    if ($row === null || $password === '') {
        return false;
    }
    $hash = $row[0];
    if (str_starts_with($hash, '$P$') || strlen($hash) <= 32) {
        return wp_check_password($password, $hash); // WordPress 6.1's own
    }
    return wp68_check_password($password, $hash);
}

$users = [];

function add_user($db, &$users, $login, $email, $password, $hash, $note, $variants = [], $wrong = null, $extra = [])
{
    $row = array_merge([
        'user_login' => $login,
        'user_pass' => $hash,
        'user_nicename' => substr(strtolower(preg_replace('/[^A-Za-z0-9]+/', '-', $login)), 0, 50),
        'user_email' => $email,
        'user_registered' => gmdate('Y-m-d H:i:s'),
        'display_name' => $login,
    ], $extra);
    $columns = implode(', ', array_keys($row));
    $marks = implode(', ', array_fill(0, count($row), '?'));
    $statement = mysqli_prepare($db, "insert into wp_users ($columns) values ($marks)");
    $values = array_values($row);
    mysqli_stmt_bind_param($statement, str_repeat('s', count($values)), ...$values);
    mysqli_stmt_execute($statement) or die(mysqli_error($db) . "\n");
    $id = mysqli_insert_id($db);

    $wrong ??= $password . 'x';
    $logins = $email === '' ? [$login] : [$login, $email];
    $can = login($db, $login, $password);
    foreach ($logins as $identifier) {
        foreach (array_merge([$password], $variants) as $typed) {
            login($db, $identifier, $typed) === $can
                or die("$note: $identifier with " . json_encode($typed) . " disagrees\n");
        }
        !login($db, $identifier, $wrong) or die("$note: $identifier accepts the wrong password\n");
    }
    $users[] = [
        'id' => (string) $id, 'username' => $login, 'email' => $email === '' ? null : $email,
        'logins' => $logins, 'password' => $password, 'variants' => $variants,
        'wrong' => $wrong, 'can_sign_in' => $can, 'note' => $note,
    ];
}

$long = str_repeat('0123456789', 8) . '-real-end'; // 89 bytes
$zero = ['user_registered' => '0000-00-00 00:00:00'];

// WordPress ≤ 6.7: phpass portable hashes from WordPress's own wp_hash_password.
$p = fn($password) => wp_hash_password($password);
add_user($db, $users, 'admin', 'admin@example.com', 'correct horse battery staple', $p('correct horse battery staple'), 'phpass $P$ (WordPress ' . $wp_version . '); user_registered 0000-00-00 00:00:00', [], null, $zero);
add_user($db, $users, 'padded', 'padded@example.com', "  spaces around\t", $p("  spaces around\t"), 'phpass; WordPress trims what is typed', ['spaces around', ' spaces around  '], 'spacesaround');
add_user($db, $users, 'NULL', 'null@example.com', 'named NULL', $p('named NULL'), 'a user literally named NULL');
add_user($db, $users, 'tabbed', 'tabbed@example.com', 'tab in name', $p('tab in name'), 'display_name holds a tab', [], null, ['display_name' => "Tab\tName"]);
add_user($db, $users, 'quoted', 'quoted@example.com', 'quote in name', $p('quote in name'), 'display_name holds double quotes', [], null, ['display_name' => 'Kim "The Admin" Lee']);
add_user($db, $users, 'backslash', 'backslash@example.com', 'back\\slash', $p('back\\slash'), 'a backslash in the password and display_name', [], null, ['display_name' => 'C:\\Users\\kim']);
add_user($db, $users, 'jane doe', 'jane@example.com', 'space in login', $p('space in login'), 'a space in user_login');
add_user($db, $users, 'noemail', '', 'no email', $p('no email'), 'empty user_email');
add_user($db, $users, 'mail@example.com', 'mail@example.com', 'login is the email', $p('login is the email'), 'user_login is the email');
add_user($db, $users, 'long-phpass', 'long-phpass@example.com', $long, $p($long), 'phpass reads 89 bytes whole', [], substr($long, 0, 72) . '-other-end');
add_user($db, $users, 'legacy-md5', 'md5@example.com', 'set in phpMyAdmin', md5('set in phpMyAdmin'), 'md5(password), as WordPress < 2.5 and phpMyAdmin resets store it');
// WordPress ≥ 6.8: bcrypt of the HMAC-SHA384, so long passwords are read whole.
add_user($db, $users, 'wp68', 'wp68@example.com', 'correct horse battery staple', wp68_hash_password('correct horse battery staple'), '$wp$ bcrypt (WordPress 6.8)');
add_user($db, $users, 'wp68-padded', 'wp68-padded@example.com', ' padded 6.8 ', wp68_hash_password(' padded 6.8 '), '$wp$; WordPress trims what is typed', ['padded 6.8', "\tpadded 6.8\n"], 'padded6.8');
add_user($db, $users, 'wp68-long', 'wp68-long@example.com', $long, wp68_hash_password($long), '$wp$ reads 89 bytes whole', [], substr($long, 0, 72) . '-other-end');
add_user($db, $users, 'wp68-utf8', 'wp68-utf8@example.com', 'Grüße, 世界 ✓', wp68_hash_password('Grüße, 世界 ✓'), '$wp$ with a non-ASCII password');
add_user($db, $users, 'wp68-zero-date', 'wp68-zero@example.com', 'registered long ago', wp68_hash_password('registered long ago'), '$wp$; user_registered 0000-00-00 00:00:00', [], null, $zero);
// A bare `$2y$` (a bcrypt plugin's wp_hash_password): 6.8 checks it with password_verify,
// after wp_authenticate trimmed what was typed.
$plugin = password_hash('plugin bcrypt', PASSWORD_BCRYPT);
add_user($db, $users, 'bcrypt-plugin', 'bcrypt-plugin@example.com', 'plugin bcrypt', $plugin, 'bare $2y$ bcrypt (a plugin\'s wp_hash_password)', [' plugin bcrypt ']);

// The exports: the importing page's query, and the whole table.
function export($port, $dataset, $query, $file)
{
    $command = sprintf(
        'mysql --no-defaults -h 127.0.0.1 -P %d -u root --batch -e %s %s > %s',
        $port, escapeshellarg($query), escapeshellarg($dataset), escapeshellarg($file)
    );
    exec($command, $output, $code);
    $code === 0 or die("$command failed\n");
}
export($port, $dataset, 'select ID as id, user_login as username, user_email as email, user_pass as password, user_registered as created_at from wp_users', "$out/users.tsv");
export($port, $dataset, 'select * from wp_users', "$out/wp_users.tsv");

// WordPress's login trims what is typed and checks every hash its way: `--dialect wordpress`.
// `mysql_batch`: the file is `mysql --batch` output (backslash escapes, no quoting), read
// with `--format mysql-batch` where the build has it.
$columns = ['--id-column', 'ID', '--username-column', 'user_login', '--email-column', 'user_email', '--password-column', 'user_pass', '--created-column', 'user_registered'];
$manifest = [
    'dataset' => $dataset,
    'framework' => 'WordPress',
    'version' => "$wp_version phpass (Debian), 6.8 wp_hash_password, PHP " . PHP_VERSION,
    'exports' => [
        ['name' => 'mysql --batch (documented query)', 'file' => 'users.tsv', 'flags' => ['--dialect', 'wordpress'], 'uid_from' => 'id', 'rows' => 'header+lines', 'mysql_batch' => true],
        ['name' => 'mysql --batch select *', 'file' => 'wp_users.tsv', 'flags' => array_merge(['--dialect', 'wordpress'], $columns), 'uid_from' => 'id', 'rows' => 'header+lines', 'mysql_batch' => true],
    ],
    'databases' => [[
        'name' => 'MariaDB --preset wordpress',
        'url' => "mysql://root@127.0.0.1:$port/$dataset",
        'preset' => 'wordpress',
        'server' => 'MariaDB ' . mysqli_fetch_row(mysqli_query($db, 'select version()'))[0],
        'flags' => [],
    ]],
    'users' => $users,
];
file_put_contents("$out/manifest.json", json_encode($manifest, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES));
