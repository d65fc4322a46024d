// The office screens (placeholder until they land). `rest` is the path after /office, with the query.
import { h } from '../dom';
import { t } from '../i18n';
import type { View } from '../views';

export function officeView(rest: string): View {
  return {
    title: t('app.name'),
    node: h('section', { class: 'page office', 'data-rest': rest }, h('h1', {}, t('app.name'))),
  };
}
