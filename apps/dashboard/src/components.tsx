import { ReactNode, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { EventTypeGroup } from './api';
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

/** Cursor paging: a stack of the cursors of the pages before this one (the first page's is ''). */
export interface CursorPages {
  /** The cursor of the page on show. */
  cursor: string;
  /** Its number, from 1. */
  page: number;
  back(): void;
  forward(nextCursor: string): void;
  /** Back to the first page (e.g. when the filters change). */
  reset(): void;
}

export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<string[]>(['']);
  return useMemo(
    () => ({
      cursor: cursors[cursors.length - 1],
      page: cursors.length,
      back: () => setCursors((c) => c.slice(0, -1)),
      forward: (nextCursor: string) => setCursors((c) => [...c, nextCursor]),
      reset: () => setCursors(['']),
    }),
    [cursors],
  );
}

/** Previous and next buttons over cursor pages; nothing when there is only one page. */
export function Pager({ label, pages, nextCursor }: { label: string; pages: CursorPages; nextCursor: string }) {
  if (pages.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={pages.back} disabled={pages.page === 1}>
        Previous page
      </button>
      <span aria-live="polite">Page {pages.page}</span>
      <button type="button" onClick={() => pages.forward(nextCursor)} disabled={!nextCursor}>
        Next page
      </button>
    </nav>
  );
}

/**
 * A table in a scrollable, focusable region, with a header row of column names; the rows are the
 * children. The region is named by `labelledBy` (an element's id), by `label`, or else by the caption.
 */
export function DataTable(props: {
  id?: string;
  className?: string;
  caption?: ReactNode;
  captionId?: string;
  labelledBy?: string;
  label?: string;
  columns: readonly string[];
  children: ReactNode;
}) {
  const labelledBy = props.labelledBy ?? (props.label ? undefined : props.captionId);
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-labelledby={labelledBy} aria-label={props.label}>
      <table id={props.id} className={props.className}>
        {props.caption !== undefined && <caption id={props.captionId}>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** The catalogue's event types as <option>s, one <optgroup> per group. */
export function EventTypeOptions({ groups }: { groups: readonly EventTypeGroup[] }) {
  return (
    <>
      {groups.map((g) => (
        <optgroup key={g.group} label={g.group}>
          {g.event_types.map((t) => (
            <option key={t.type} value={t.type}>
              {t.type}
            </option>
          ))}
        </optgroup>
      ))}
    </>
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
