// @generated shape: matches `diesel print-schema` for the migrations in `migrations/sqlite/`.

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        title -> Text,
        content -> Text,
        image -> Nullable<Text>,
        published -> Bool,
        views -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        held_published -> Nullable<Bool>,
        publish_at -> Nullable<Timestamp>,
        comments -> Integer,
        comments_closed -> Bool,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
        name -> Text,
        posts -> Integer,
    }
}

diesel::table! {
    post_tags (post_id, tag_id) {
        post_id -> Integer,
        tag_id -> Integer,
        published -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> Integer,
        post_id -> Integer,
        user_id -> Integer,
        body -> Text,
        hidden -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_verifications (user_id) {
        user_id -> Integer,
        email -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invites (id) {
        id -> Integer,
        token_hash -> Text,
        created_by -> Nullable<Integer>,
        expires_at -> Timestamp,
        used_by -> Nullable<Integer>,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_challenges (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Integer,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        failed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (user_id) {
        user_id -> Integer,
        token_hash -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Integer,
        user_id -> Integer,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    two_factor (user_id) {
        user_id -> Integer,
        secret -> Text,
        enabled_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_daily_views (post_id, day) {
        post_id -> Integer,
        day -> Date,
        views -> Integer,
    }
}

diesel::table! {
    post_totals (id) {
        id -> Integer,
        published -> BigInt,
        drafts -> BigInt,
    }
}

diesel::table! {
    site_totals (id) {
        id -> Integer,
        comments -> BigInt,
        api_tokens -> BigInt,
    }
}

diesel::table! {
    site_daily (day) {
        day -> Date,
        signups -> BigInt,
        posts -> BigInt,
        views -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        uid -> Text,
        name -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        dob -> Nullable<Date>,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_posts -> Integer,
        draft_posts -> Integer,
        email_verified_at -> Nullable<Timestamp>,
        suspended_at -> Nullable<Timestamp>,
        suspension_reason -> Nullable<Text>,
    }
}

diesel::table! {
    user_totals (id) {
        id -> Integer,
        users -> Integer,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(comments -> users (user_id));
diesel::joinable!(email_verifications -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(post_daily_views -> posts (post_id));
diesel::joinable!(post_tags -> posts (post_id));
diesel::joinable!(post_tags -> tags (tag_id));
diesel::joinable!(posts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    comments,
    email_verifications,
    invites,
    login_challenges,
    outbox,
    password_resets,
    post_daily_views,
    post_tags,
    post_totals,
    posts,
    recovery_codes,
    sessions,
    site_daily,
    site_totals,
    tags,
    two_factor,
    user_totals,
    users
);
