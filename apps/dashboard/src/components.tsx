import { ReactNode, useEffect, useId, useRef } from 'react';
import { STATUS_LABEL } from './format';

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{STATUS_LABEL[status] ?? status}</span>;
}

export type NoticeKind = 'success' | 'error' | 'info';
export interface NoticeMsg {
  kind: NoticeKind;
  text: string;
  id: number;
}

/** Page-level messages: announced politely (errors assertively), dismissible. */
export function Notice({ notice, onClose }: { notice: NoticeMsg | null; onClose: () => void }) {
  return (
    <div
      id="notice"
      role={notice?.kind === 'error' ? 'alert' : 'status'}
      aria-live={notice?.kind === 'error' ? 'assertive' : 'polite'}
      className={notice ? `notice notice-${notice.kind}` : 'notice-empty'}
    >
      {notice && (
        <>
          <span>{notice.text}</span>
          <button type="button" className="link" onClick={onClose} aria-label="Dismiss message">
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}

/** A modal confirmation on the native <dialog>: focus is trapped, Escape cancels. */
export function ConfirmDialog(props: { title: string; children: ReactNode; confirmLabel: string; danger?: boolean; busy?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const bodyId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={titleId}>{props.title}</h2>
      <div id={bodyId}>{props.children}</div>
      <div className="actions">
        <button type="button" className={props.danger ? 'danger' : 'primary'} disabled={props.busy} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
        <button type="button" onClick={props.onCancel} autoFocus>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

/** Cursor paging: a stack of the cursors of the pages before this one. */
export function Pager({ label, page, hasNext, onPrev, onNext }: { label: string; page: number; hasNext: boolean; onPrev: () => void; onNext: () => void }) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={onPrev} disabled={page === 1}>
        Previous page
      </button>
      <span aria-live="polite">Page {page}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </nav>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/** Page heading that takes focus on navigation, so screen readers announce the new page. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}
