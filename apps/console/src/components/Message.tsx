// The page's voice for trouble and waiting: always a sentence, never a blank page.

export function ErrorMessage({ text }: { text: string | undefined }) {
  if (text === undefined) return null;
  return (
    <p class="message error" role="alert">
      {text}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="message" aria-live="polite">
      Loading {what}…
    </p>
  );
}
