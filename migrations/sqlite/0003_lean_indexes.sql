-- Fewer indexes to maintain during a sync: kind filters scan the primary
-- key by ref prefix (refs start with the lower-case kind), and relations of
-- an origin are found through source_ref or target_ref (an entity's
-- relations always have it at one end).
DROP INDEX entities_lower_kind;
DROP INDEX relations_origin;
