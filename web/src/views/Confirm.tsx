import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal question before an action that changes phones. The browser's own <dialog> keeps the
 * focus inside it and closes on Escape; focus goes back where it was after.
 */
export function Confirm(props: { title: string; children: ComponentChildren; confirmLabel: string; onConfirm: () => void; onCancel: () => void; danger?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    const before = document.activeElement as HTMLElement | null;
    d.showModal();
    return () => before?.focus();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel} onClose={props.onCancel}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          props.onConfirm();
        }}
      >
        <h2 id="confirm-title">{props.title}</h2>
        <div class="dialog-body">{props.children}</div>
        <div class="actions">
          <button type="button" class="quiet" onClick={props.onCancel} autoFocus>
            Cancel
          </button>
          <button type="submit" class={props.danger ? 'danger' : undefined}>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
