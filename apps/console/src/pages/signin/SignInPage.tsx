// Sign-in: paste an API key. It is checked by opening the tab's statistics stream with it (see
// session.ts); a refusal or an unreachable server is said in a sentence next to the field.
import { useState } from 'preact/hooks';
import { ApiError, UnreachableError } from '../../api/client.ts';
import { signIn } from '../../session.ts';

export function SignInPage({ notice }: { notice: string | undefined }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = key.trim();
    if (candidate === '') {
      setError('Paste an API key first.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await signIn(candidate);
    } catch (failure) {
      if (failure instanceof UnreachableError) setError(failure.message);
      else if (failure instanceof ApiError && failure.status === 401)
        setError('That API key is unknown or revoked.');
      else if (failure instanceof ApiError && failure.status === 403)
        setError('That API key cannot read: the console needs a key with the read scope.');
      else setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <h1>Offload console</h1>
      {notice !== undefined && (
        <p class="message warning" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error !== undefined && (
          <p class="message error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="hint">
        The key stays in this tab (session storage) and is sent only as an Authorization header. Create one
        with <code>npm run keys -- create --owner you --scopes read,submit</code>.
      </p>
    </main>
  );
}
