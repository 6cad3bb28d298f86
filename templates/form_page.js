  // Shows one message in #result; its class and id are its kind (pending, success, error).
  function show(kind, text) {
    result.replaceChildren();
    const p = document.createElement('p');
    p.className = kind;
    p.id = kind;
    p.textContent = text;
    result.append(p);
  }
