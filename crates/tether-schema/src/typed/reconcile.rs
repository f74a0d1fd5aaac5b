//! Reconciling a field set written under an older schema with the current one (smd's
//! `ReconcileFieldSetWithSchema`): a manager that owned fields inside a list, map or struct that
//! has since become atomic now owns the container itself instead.

use crate::fieldpath::{PathElement, Set};
use crate::schema::{Schema, TypeId};

/// The reconciled set, or `None` when `set` already fits the schema.
pub fn reconcile_field_set_with_schema(set: &Set, schema: &Schema, ty: TypeId) -> Option<Set> {
    let mut state = State::default();
    let mut path: Vec<&PathElement> = Vec::new();
    state.walk(schema, Some(ty), Some(set), &mut path, false);
    if !state.changed {
        return None;
    }
    Some(
        set.recursive_difference(&state.to_remove)
            .union(&state.to_add),
    )
}

#[derive(Default)]
struct State {
    to_remove: Set,
    to_add: Set,
    changed: bool,
}

impl State {
    fn make_atomic(&mut self, path: &[&PathElement]) {
        let path: Vec<PathElement> = path.iter().map(|pe| (*pe).clone()).collect();
        self.to_remove.insert(&path);
        self.to_add.insert(&path);
        self.changed = true;
    }

    fn walk<'a>(
        &mut self,
        schema: &Schema,
        ty: Option<TypeId>,
        node: Option<&'a Set>,
        path: &mut Vec<&'a PathElement>,
        is_atomic: bool,
    ) {
        let Some(ty) = ty else { return };
        let atom = schema.atom(ty);
        if let Some(m) = &atom.map {
            // Deduced content carries no atomic or granular markers to reconcile.
            if m.untyped_deduced {
                return;
            }
            if !is_atomic && m.is_atomic() {
                if node.is_some_and(|n| !n.is_empty()) {
                    self.make_atomic(path);
                }
                return;
            }
            if let Some(node) = node {
                self.visit(
                    node,
                    path,
                    |pe| match pe {
                        PathElement::Field(name) => m.entry_type(name),
                        _ => m.element,
                    },
                    schema,
                );
            }
        } else if atom.scalar.is_some() {
        } else if let Some(l) = &atom.list {
            if !is_atomic && l.is_atomic() {
                self.make_atomic(path);
                return;
            }
            if let Some(node) = node {
                self.visit(node, path, |_| Some(l.element), schema);
            }
        }
    }

    fn visit<'a>(
        &mut self,
        node: &'a Set,
        path: &mut Vec<&'a PathElement>,
        type_of: impl Fn(&PathElement) -> Option<TypeId>,
        schema: &Schema,
    ) {
        for (pe, child) in node.children() {
            if node.has_member(pe) {
                continue;
            }
            path.push(pe);
            self.walk(schema, type_of(pe), Some(child), path, false);
            path.pop();
        }
        for pe in node.members() {
            let child = node.child(pe);
            path.push(pe);
            self.walk(schema, type_of(pe), child, path, child.is_none());
            path.pop();
        }
    }
}
