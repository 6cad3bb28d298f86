  // Shows one message in #result; its class and id are its kind (pending, success, error).
  function show(kind, text) {
    result.replaceChildren();
    const p = document.createElement('p');
    p.className = kind;
    p.id = kind;
    p.textContent = text;
    result.append(p);
  }

  // The page's words, in its language (data-* attributes of #texts).
  const texts = document.getElementById('texts').dataset;
  // Requests name the page's language, so a mail they cause speaks it too, and the reader's
  // time zone, so its times are the reader's.
  const language = '?lang=' + encodeURIComponent(document.documentElement.lang);
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  // What a failed answer means to the reader, by its stable error code or status.
  function failure(response, body) {
    if (body.error === 'invalid_token') return texts.invalidToken;
    if (body.error === 'weak_password') return texts.weakPassword || texts.unexpected.replace('{status}', response.status);
    if (response.status === 429) return texts.rateLimited;
    if (response.status === 503) return texts.unavailable;
    return texts.unexpected.replace('{status}', response.status);
  }
