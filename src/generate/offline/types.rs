//! The typed input model: what kind of value each parameter of a signature takes, read from
//! its syn type, or why the engine cannot make one (said, never silent).

use std::fmt;

use quote::ToTokens;

/// What a parameter takes, as far as the engine can produce values for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputType {
    /// `i8`..`i128`, `isize`, `u8`..`u128`, `usize`, by name.
    Int {
        name: String,
        signed: bool,
    },
    /// `f32` or `f64`.
    Float {
        name: String,
    },
    Bool,
    Char,
    /// `&str` (borrowed) or `String` (owned); `&String` is a borrowed owned string.
    Str {
        owned: bool,
    },
    /// `&[T]` or `&mut [T]`.
    Slice {
        element: Box<InputType>,
        mutable: bool,
    },
    Vec(Box<InputType>),
    Array {
        element: Box<InputType>,
        len: usize,
    },
    Option(Box<InputType>),
    Tuple(Vec<InputType>),
    /// `&T` or `&mut T` of anything but `str` and slices.
    Ref {
        inner: Box<InputType>,
        mutable: bool,
    },
    /// `Box<T>`, `Rc<T>`, `Arc<T>` or `Cow<T>` (`Box<str>` holds a borrowed-string model):
    /// made from a value of the inner model with `.into()` or `::from`.
    Wrapped {
        wrapper: String,
        inner: Box<InputType>,
    },
    /// A std type the engine knows values of (`Duration`, `Ipv4Addr`, ...), by its last segment.
    Std(String),
    /// A path the engine must look up in the crate (an alias, a struct, an enum, a `Default`
    /// type); the printed path as written.
    Named(String),
}

/// Why no value can be made for a parameter: the words after "parameter `x`: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoValueSource(pub String);

impl fmt::Display for NoValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const INTS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

/// Std types with known edge values, by their last path segment.
const STD_TYPES: &[&str] = &[
    "Duration",
    "Ipv4Addr",
    "Ipv6Addr",
    "IpAddr",
    "SocketAddr",
    "PathBuf",
    "OsString",
    "NonZeroU8",
    "NonZeroU16",
    "NonZeroU32",
    "NonZeroU64",
    "NonZeroUsize",
    "NonZeroI32",
    "NonZeroI64",
    // Of integers (the literals below take the element type by inference).
    "Range",
    "RangeInclusive",
    "RandomState",
];

/// The input model of `ty`. `generics` are the function's own, so that a type parameter with
/// std bounds gets a concrete stand-in.
pub fn input_type(ty: &syn::Type, generics: &syn::Generics) -> Result<InputType, NoValueSource> {
    match ty {
        syn::Type::Reference(reference) => {
            let mutable = reference.mutability.is_some();
            match &*reference.elem {
                syn::Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
                    if mutable {
                        Err(NoValueSource("`&mut str` has no value source".into()))
                    } else {
                        Ok(InputType::Str { owned: false })
                    }
                }
                syn::Type::Slice(slice) => Ok(InputType::Slice {
                    element: Box::new(input_type(&slice.elem, generics)?),
                    mutable,
                }),
                inner => Ok(InputType::Ref {
                    inner: Box::new(input_type(inner, generics)?),
                    mutable,
                }),
            }
        }
        syn::Type::Paren(paren) => input_type(&paren.elem, generics),
        syn::Type::Group(group) => input_type(&group.elem, generics),
        syn::Type::Tuple(tuple) => tuple
            .elems
            .iter()
            .map(|t| input_type(t, generics))
            .collect::<Result<_, _>>()
            .map(InputType::Tuple),
        syn::Type::Array(array) => {
            let len = match &array.len {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(int),
                    ..
                }) => int.base10_parse::<usize>().ok(),
                _ => None,
            }
            .ok_or_else(|| {
                NoValueSource(format!(
                    "array length `{}` is not a literal",
                    array.len.to_token_stream()
                ))
            })?;
            Ok(InputType::Array {
                element: Box::new(input_type(&array.elem, generics)?),
                len,
            })
        }
        syn::Type::Path(path) if path.qself.is_none() => path_type(&path.path, generics),
        syn::Type::ImplTrait(bounds) => {
            stand_in(bounds.bounds.iter(), &printed(ty)).map_err(NoValueSource)
        }
        // `&mut dyn Write`: a std type that meets the traits coerces to the object.
        syn::Type::TraitObject(object) => {
            stand_in(object.bounds.iter(), &printed(ty)).map_err(NoValueSource)
        }
        _ => Err(NoValueSource(format!(
            "`{}` has no value source",
            printed(ty)
        ))),
    }
}

fn path_type(path: &syn::Path, generics: &syn::Generics) -> Result<InputType, NoValueSource> {
    let Some(last) = path.segments.last() else {
        return Err(NoValueSource("an empty type path".into()));
    };
    let name = last.ident.to_string();
    let args: Vec<&syn::Type> = match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    // `Self::Buffer`, `T::Item`: an associated type, not a crate type of that name.
    if path.segments.len() >= 2 {
        let first = path.segments[0].ident.to_string();
        if first == "Self" || generics.type_params().any(|p| p.ident == first) {
            return Err(NoValueSource(format!(
                "`{}` is an associated type",
                printed_path(path)
            )));
        }
    }
    let single = |wrap: fn(Box<InputType>) -> InputType| match args.as_slice() {
        [inner] => Ok(wrap(Box::new(input_type(inner, generics)?))),
        _ => Err(NoValueSource(format!(
            "`{}` has no value source",
            printed_path(path)
        ))),
    };
    if path.segments.len() == 1 {
        if INTS.contains(&name.as_str()) {
            return Ok(InputType::Int {
                signed: name.starts_with('i'),
                name,
            });
        }
        match name.as_str() {
            "f32" | "f64" => return Ok(InputType::Float { name }),
            "bool" => return Ok(InputType::Bool),
            "char" => return Ok(InputType::Char),
            _ => {}
        }
        if let Some(param) = generics.type_params().find(|p| p.ident == name) {
            let mut bounds: Vec<&syn::TypeParamBound> = param.bounds.iter().collect();
            if let Some(clause) = &generics.where_clause {
                for predicate in &clause.predicates {
                    if let syn::WherePredicate::Type(typed) = predicate
                        && matches!(&typed.bounded_ty, syn::Type::Path(p) if p.path.is_ident(&name))
                    {
                        bounds.extend(typed.bounds.iter());
                    }
                }
            }
            return stand_in(bounds.into_iter(), &name).map_err(NoValueSource);
        }
    }
    match name.as_str() {
        "String" => Ok(InputType::Str { owned: true }),
        "Vec" => single(InputType::Vec),
        "Option" => single(InputType::Option),
        "Box" | "Rc" | "Arc" | "Cow" => match args.as_slice() {
            [inner] => Ok(InputType::Wrapped {
                wrapper: name,
                inner: Box::new(unsized_inner(inner, generics)?),
            }),
            _ => Err(NoValueSource(format!(
                "`{}` has no value source",
                printed_path(path)
            ))),
        },
        _ if STD_TYPES.contains(&name.as_str()) => Ok(InputType::Std(name)),
        _ => Ok(InputType::Named(printed_path(path))),
    }
}

/// The model of a pointer's pointee, which may be unsized: `str` and `[T]` as their borrowed
/// forms.
fn unsized_inner(ty: &syn::Type, generics: &syn::Generics) -> Result<InputType, NoValueSource> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            Ok(InputType::Str { owned: false })
        }
        syn::Type::Slice(slice) => Ok(InputType::Slice {
            element: Box::new(input_type(&slice.elem, generics)?),
            mutable: false,
        }),
        other => input_type(other, generics),
    }
}

/// Traits every stand-in type meets, as they may be written.
const EVERY_CANDIDATE_TRAITS: &[&str] = &[
    "Debug",
    "fmt::Debug",
    "std::fmt::Debug",
    "Clone",
    "PartialEq",
    "Eq",
    "Hash",
    "Send",
    "Sync",
    "Sized",
];

/// Traits `&str` and `i64` meet beyond those.
const SCALAR_TRAITS: &[&str] = &[
    "Display",
    "fmt::Display",
    "std::fmt::Display",
    "Copy",
    "Ord",
    "PartialOrd",
];

/// A concrete type standing in for `impl Bounds` or a type parameter bounded by them: the
/// first std type that meets every bound, or why there is none.
fn stand_in<'a>(
    bounds: impl Iterator<Item = &'a syn::TypeParamBound>,
    written: &str,
) -> Result<InputType, String> {
    let paths: Vec<&syn::Path> = bounds
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => Some(&t.path),
            _ => None,
        })
        .collect();
    if let Some(target) = conversion_target(&paths) {
        return Ok(target);
    }
    if let Some(collection) = collection_stand_in(&paths) {
        return Ok(collection);
    }
    let traits: Vec<String> = paths.iter().map(|p| printed_path(p)).collect();
    // Candidates in order of preference, with the bounds each satisfies.
    let candidates: [(InputType, &[&[&str]]); 5] = [
        (
            InputType::Str { owned: false },
            &[
                &[
                    "AsRef<str>",
                    "AsRef<[u8]>",
                    "AsRef<std::path::Path>",
                    "AsRef<Path>",
                    "Into<String>",
                    "ToString",
                ],
                SCALAR_TRAITS,
                EVERY_CANDIDATE_TRAITS,
            ],
        ),
        (
            InputType::Int {
                name: "i64".into(),
                signed: true,
            },
            &[
                &["Into<i64>", "Into<i128>", "Into<f64>", "Default"],
                SCALAR_TRAITS,
                EVERY_CANDIDATE_TRAITS,
            ],
        ),
        (
            InputType::Vec(Box::new(InputType::Int {
                name: "u8".into(),
                signed: false,
            })),
            &[
                &[
                    "AsRef<[u8]>",
                    "Into<Vec<u8>>",
                    "IntoIterator",
                    "Default",
                    "Write",
                    "io::Write",
                    "std::io::Write",
                ],
                EVERY_CANDIDATE_TRAITS,
            ],
        ),
        // A reader: bytes, which `&[u8]` reads (buffered too).
        (
            InputType::Slice {
                element: Box::new(InputType::Int {
                    name: "u8".into(),
                    signed: false,
                }),
                mutable: false,
            },
            &[
                &[
                    "Read",
                    "io::Read",
                    "std::io::Read",
                    "BufRead",
                    "io::BufRead",
                    "std::io::BufRead",
                ],
                EVERY_CANDIDATE_TRAITS,
            ],
        ),
        (
            InputType::Std("RandomState".into()),
            &[
                &[
                    "BuildHasher",
                    "hash::BuildHasher",
                    "std::hash::BuildHasher",
                    "Default",
                ],
                &["Clone", "Debug", "Send", "Sync"],
            ],
        ),
    ];
    candidates
        .into_iter()
        .find(|(_, meets)| {
            traits
                .iter()
                .all(|t| meets.iter().any(|group| group.contains(&t.as_str())))
        })
        .map(|(ty, _)| ty)
        .ok_or_else(|| {
            if traits.is_empty() {
                format!("`{written}` has no bound to pick a type by")
            } else {
                format!("`{written}`: no std type meets `{}`", traits.join(" + "))
            }
        })
}

/// `IntoIterator<Item = T>` or `AsRef<[T]>` (with nothing but marker traits beside): a
/// `Vec<T>` meets it, and its values are the collection's edge values.
fn collection_stand_in(paths: &[&syn::Path]) -> Option<InputType> {
    const MARKERS: &[&str] = &["Send", "Sync", "Sized", "Unpin", "Clone", "Debug"];
    let mut element = None;
    for path in paths {
        let last = path.segments.last()?;
        let name = last.ident.to_string();
        if MARKERS.contains(&name.as_str()) {
            continue;
        }
        if element.is_some() {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let [arg] = args.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let ty = match (name.as_str(), arg) {
            ("IntoIterator", syn::GenericArgument::AssocType(assoc)) if assoc.ident == "Item" => {
                &assoc.ty
            }
            ("AsRef", syn::GenericArgument::Type(syn::Type::Slice(slice))) => &*slice.elem,
            _ => return None,
        };
        element = Some(input_type(ty, &syn::Generics::default()).ok()?);
    }
    element.map(|e| InputType::Vec(Box::new(e)))
}

/// `impl Into<T>` or `impl Borrow<T>` (with nothing but marker traits beside): a `T` itself
/// converts, so a crate type behind `Into` is made like any other.
fn conversion_target(paths: &[&syn::Path]) -> Option<InputType> {
    const MARKERS: &[&str] = &["Send", "Sync", "Sized", "Unpin"];
    let mut target = None;
    for path in paths {
        let last = path.segments.last()?;
        let name = last.ident.to_string();
        if MARKERS.contains(&name.as_str()) {
            continue;
        }
        if target.is_some() || !matches!(name.as_str(), "Into" | "Borrow") {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let [syn::GenericArgument::Type(ty)] = args.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        target = input_type(ty, &syn::Generics::default()).ok();
        target.as_ref()?;
    }
    target
}

/// The Rust type of a model, for a turbofish or a substituted generic: `i64`, `&str`,
/// `Vec<u8>`; `None` for crate types, which are named as written instead.
pub fn type_code(ty: &InputType) -> Option<String> {
    Some(match ty {
        InputType::Int { name, .. } | InputType::Float { name } => name.clone(),
        InputType::Bool => "bool".into(),
        InputType::Char => "char".into(),
        InputType::Str { owned: false } => "&str".into(),
        InputType::Str { owned: true } => "String".into(),
        InputType::Slice { element, mutable } => {
            let amp = if *mutable { "&mut " } else { "&" };
            format!("{amp}[{}]", type_code(element)?)
        }
        InputType::Vec(element) => format!("Vec<{}>", type_code(element)?),
        InputType::Array { element, len } => format!("[{}; {len}]", type_code(element)?),
        InputType::Option(inner) => format!("Option<{}>", type_code(inner)?),
        InputType::Tuple(elements) => {
            let parts: Option<Vec<String>> = elements.iter().map(type_code).collect();
            let parts = parts?;
            if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            }
        }
        InputType::Ref { inner, mutable } => {
            let amp = if *mutable { "&mut " } else { "&" };
            format!("{amp}{}", type_code(inner)?)
        }
        InputType::Std(name) if name == "RandomState" => {
            "std::collections::hash_map::RandomState".into()
        }
        InputType::Wrapped { .. } | InputType::Std(_) | InputType::Named(_) => return None,
    })
}

/// The stand-in type of each type parameter of `generics`, in order, or why one has none;
/// `fixed` are parameters already bound to a type (a crate type meeting crate traits).
pub fn stand_in_types(
    generics: &syn::Generics,
    fixed: &[(String, String)],
) -> Result<Vec<(String, String)>, NoValueSource> {
    generics
        .type_params()
        .map(|param| {
            let name = param.ident.to_string();
            if let Some((_, code)) = fixed.iter().find(|(n, _)| *n == name) {
                return Ok((name, code.clone()));
            }
            let ty: syn::Type = crate::syntax::parse_str(&name)
                .map_err(|_| NoValueSource(format!("type parameter `{name}`")))?;
            let model = input_type(&ty, generics)?;
            let code = type_code(&model).ok_or_else(|| {
                NoValueSource(format!("type parameter `{name}` has no concrete stand-in"))
            })?;
            Ok((name, code))
        })
        .collect()
}

fn printed(ty: &syn::Type) -> String {
    crate::analyze::names::pretty_type(ty)
}

fn printed_path(path: &syn::Path) -> String {
    match syn::parse2::<syn::Type>(path.to_token_stream()) {
        Ok(ty) => printed(&ty),
        Err(_) => path.to_token_stream().to_string(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The model of each parameter of `signature` (a whole `fn` item).
    fn params(signature: &str) -> Vec<Result<InputType, NoValueSource>> {
        let item: syn::ItemFn = syn::parse_str(signature).unwrap();
        item.sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(typed) => Some(input_type(&typed.ty, &item.sig.generics)),
                syn::FnArg::Receiver(_) => None,
            })
            .collect()
    }

    fn int(name: &str) -> InputType {
        InputType::Int {
            name: name.into(),
            signed: name.starts_with('i'),
        }
    }

    #[test]
    fn io_and_hashing_bounds_get_std_stand_ins() {
        let got = params(
            "fn f<R: std::io::BufRead, W: io::Write, S: BuildHasher + Clone>(r: R, w: W, s: S) {}",
        );
        assert_eq!(
            got[0],
            Ok(InputType::Slice {
                element: Box::new(int("u8")),
                mutable: false
            })
        );
        assert_eq!(got[1], Ok(InputType::Vec(Box::new(int("u8")))));
        assert_eq!(got[2], Ok(InputType::Std("RandomState".into())));
        assert_eq!(
            type_code(got[2].as_ref().unwrap()).as_deref(),
            Some("std::collections::hash_map::RandomState")
        );
    }

    #[test]
    fn associated_types_are_not_crate_types() {
        let got = params("fn f<T: Iterator>(buf: &mut Self::Buffer, item: T::Item, b: Buffer) {}");
        let err = |i: usize| got[i].as_ref().unwrap_err().0.clone();
        assert!(err(0).contains("associated type"), "{}", err(0));
        assert!(err(1).contains("associated type"), "{}", err(1));
        assert!(got[2].is_ok());
    }

    #[test]
    fn collections_and_writers_stand_in_for_their_traits() {
        let got = params(
            "fn f(words: impl IntoIterator<Item = &'static str>, xs: impl AsRef<[u32]>, out: &mut dyn std::io::Write) {}",
        );
        assert_eq!(
            got[0].as_ref().unwrap(),
            &InputType::Vec(Box::new(InputType::Str { owned: false }))
        );
        assert_eq!(
            got[1].as_ref().unwrap(),
            &InputType::Vec(Box::new(int("u32")))
        );
        assert!(matches!(
            got[2].as_ref().unwrap(),
            InputType::Ref { mutable: true, .. }
        ));
    }

    #[test]
    fn primitives_strings_and_collections() {
        let got = params(
            "fn f(a: u8, b: i128, c: f64, d: bool, e: char, s: &str, o: String, \
             xs: &[u32], v: Vec<i16>, arr: [u8; 4], opt: Option<&str>, t: (usize, bool), \
             r: &mut i32, m: &mut [u8]) {}",
        );
        let expected = [
            int("u8"),
            int("i128"),
            InputType::Float { name: "f64".into() },
            InputType::Bool,
            InputType::Char,
            InputType::Str { owned: false },
            InputType::Str { owned: true },
            InputType::Slice {
                element: Box::new(int("u32")),
                mutable: false,
            },
            InputType::Vec(Box::new(int("i16"))),
            InputType::Array {
                element: Box::new(int("u8")),
                len: 4,
            },
            InputType::Option(Box::new(InputType::Str { owned: false })),
            InputType::Tuple(vec![int("usize"), InputType::Bool]),
            InputType::Ref {
                inner: Box::new(int("i32")),
                mutable: true,
            },
            InputType::Slice {
                element: Box::new(int("u8")),
                mutable: true,
            },
        ];
        assert_eq!(got, expected.map(Ok));
    }

    #[test]
    fn std_types_smart_pointers_and_crate_paths() {
        let got = params(
            "fn f(d: std::time::Duration, ip: Ipv4Addr, b: Box<str>, c: Cow<'_, str>, \
             m: crate::money::Cents, alias: Amount) {}",
        );
        assert_eq!(
            got,
            [
                Ok(InputType::Std("Duration".into())),
                Ok(InputType::Std("Ipv4Addr".into())),
                Ok(InputType::Wrapped {
                    wrapper: "Box".into(),
                    inner: Box::new(InputType::Str { owned: false })
                }),
                Ok(InputType::Wrapped {
                    wrapper: "Cow".into(),
                    inner: Box::new(InputType::Str { owned: false })
                }),
                Ok(InputType::Named("crate::money::Cents".into())),
                Ok(InputType::Named("Amount".into())),
            ]
        );
    }

    #[test]
    fn generics_with_std_bounds_get_a_stand_in_and_others_a_reason() {
        let got = params(
            "fn f<T: AsRef<str>, N, W>(t: T, n: N, s: impl Into<String>, r: impl Seek, w: W) \
             where N: Copy + Ord, W: std::io::Write {}",
        );
        assert_eq!(
            got,
            [
                Ok(InputType::Str { owned: false }),
                Ok(InputType::Str { owned: false }),
                // `impl Into<String>`: a `String` itself.
                Ok(InputType::Str { owned: true }),
                Err(NoValueSource(
                    "`impl Seek`: no std type meets `Seek`".into()
                )),
                // A `Vec<u8>` is a writer.
                Ok(InputType::Vec(Box::new(InputType::Int {
                    name: "u8".into(),
                    signed: false
                }))),
            ]
        );
        let got = params(
            "fn f(i: impl Into<Input<'h>>, b: impl Borrow<u32> + Send, x: impl Into<u8> + Clone) {}",
        );
        assert_eq!(
            got[..2],
            [Ok(InputType::Named("Input<'h>".into())), Ok(int("u32")),]
        );
        assert!(got[2].is_err(), "{:?}", got[2]);
        let got = params("fn f<N: Into<i64> + Copy>(n: N, x: impl Fn(u8) -> u8) {}");
        assert_eq!(got[0], Ok(int("i64")));
        assert!(got[1].is_err(), "{:?}", got[1]);
    }
}
