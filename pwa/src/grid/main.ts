// The grid screens (placeholder until they land). `rest` is the path after /grid, with the query.
import { h } from '../dom';
import { t } from '../i18n';
import type { View } from '../views';

export function gridView(rest: string): View {
  return {
    title: t('app.name'),
    node: h('section', { class: 'page grid', 'data-rest': rest }, h('h1', {}, t('app.name'))),
  };
}
