/**
 * What a syntax leaf is, from its node type alone: a coarse class that holds across grammars, so the
 * token view can say "this token splits an identifier" without knowing every grammar's node names.
 * Pure functions, no tree-sitter import.
 */

export type LeafKind = 'identifier' | 'keyword' | 'string' | 'comment' | 'number' | 'punctuation' | 'other';

/**
 * Node types whose children are not worth separate leaves: a comment or a run of string text is one
 * unit for the tokenizer view even where a grammar splits it (rust's line_comment has a doc marker
 * child, python's string_content holds its escape sequences as children).
 */
const OPAQUE = new Set([
  'string_fragment',
  'string_content',
  'string_value',
  'interpreted_string_literal_content',
  'raw_string_literal_content',
  'heredoc_body',
  'heredoc_content',
  'regex_pattern',
  'jsx_text',
]);

/** Whether leaves() stops at a node of this type instead of descending into its children. */
export function isOpaque(type: string): boolean {
  return OPAQUE.has(type) || type.includes('comment');
}

/** Named leaves that are words of the language rather than names (primitive_type: C's `int`, rust's `i32`). */
const KEYWORD_TYPES = new Set([
  'primitive_type',
  'predefined_type',
  'void_type',
  'boolean_type',
  'integral_type',
  'floating_point_type',
  'self',
  'super',
  'crate',
]);

/** Named leaves that hold names without 'identifier' in their type (php `name`, ruby `constant`, css `tag_name`). */
const NAME_TYPES = new Set([
  'name',
  'constant',
  'instance_variable',
  'class_variable',
  'global_variable',
  'variable_name',
  'simple_identifier',
]);

/** Named leaves that are string text or string delimiters with a node of their own (python's string_start). */
const STRING_PATTERN = /string|char_literal|character_literal|rune_literal|heredoc|regex|escape_sequence|jsx_text/;

/** Numeric literal node types across the grammars: number, integer, float, int_literal, number_literal, real_literal, ... */
const NUMBER_PATTERN = /(^|_)(number|integer|float|int|real|decimal|hex|octal|binary|imaginary|rational|complex)(_|$)/;

const WORD = /^#?[A-Za-z_][A-Za-z0-9_]*$/;
const NUMERIC_TEXT = /^[+-]?\.?[0-9]/;
const NO_WORD_CHARS = /^[^\p{L}\p{N}_]+$/u;

/**
 * The kind of a leaf. `text` is the leaf's source text; it tells keywords (`if`, `#include`) from
 * operators (`===`) among anonymous tokens, and `this`/`true`/`None`-style named nodes from names.
 */
export function leafKind(type: string, isNamed: boolean, text: string): LeafKind {
  if (!isNamed) {
    if (WORD.test(text)) return 'keyword';
    if (NO_WORD_CHARS.test(text)) return 'punctuation';
    return 'other';
  }
  if (type.includes('comment')) return 'comment';
  if (type.includes('identifier') || NAME_TYPES.has(type) || type.endsWith('_name')) return 'identifier';
  // `this`, `true`, `null`, python's `none` (text `None`): a named node that is just its own word.
  if (KEYWORD_TYPES.has(type) || (WORD.test(text) && text.toLowerCase() === type)) return 'keyword';
  if (STRING_PATTERN.test(type)) return 'string';
  if (NUMBER_PATTERN.test(type) || NUMERIC_TEXT.test(text)) return 'number';
  if (NO_WORD_CHARS.test(text)) return 'punctuation';
  return 'other';
}
